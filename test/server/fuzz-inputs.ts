// Random inputs for the REST fuzz test (fuzz.test.ts): list queries from the search grammar,
// valid and mutated, with orderBy/fields/page/size, and request bodies of every odd shape.
// Sizes go past every documented bound (query-limits.ts) so both sides of each are hit.
import fc from 'fast-check'
import {SCHEMAS} from '../../src/lib/server/schema.js'

const sessionFields = [...SCHEMAS.sessions.fields.keys()]
const stringFields = sessionFields.filter((f) => SCHEMAS.sessions.fields.get(f) === 'string')

// ---- search ----

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`

/** LIKE patterns: ordinary ones, the shapes that make regexes backtrack, and overlong ones. */
const likePattern = fc.oneof(
  fc.string({unit: fc.constantFrom('a', 'b', 'A', '%', '_', '\\', "'", 'ä', '😀', '-'), maxLength: 40}),
  fc.integer({min: 1, max: 140}).map((n) => `${'%a'.repeat(n)}%b`),
  fc.integer({min: 1, max: 140}).map((n) => `${'%_'.repeat(n)}%b`),
  fc.integer({min: 200, max: 300}).map((n) => '_'.repeat(n)),
)

const literal = fc.oneof(
  fc.string({maxLength: 20}).map(quote),
  fc.integer({min: -1e6, max: 1e6}).map(String),
  fc.double({noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9}).map(String),
  fc.constantFrom("'2026-01-01'", "'2026-01-01T00:00:00Z'", "'yesterday'", "''", '1e999', '-0', "'Running'"),
)

const field = fc.oneof(
  fc.constantFrom(...sessionFields),
  fc.constantFrom(...stringFields).map((f) => `sessions.${f}`),
  fc.constantFrom('nope', 'projects.name'),
)

const comparison = fc.oneof(
  fc.tuple(field, fc.constantFrom('=', '!=', '<>', '<', '<=', '>', '>='), literal).map(([f, op, v]) => `${f} ${op} ${v}`),
  fc
    .tuple(fc.constantFrom(...stringFields), fc.boolean(), fc.constantFrom('like', 'ilike', 'LIKE'), likePattern)
    .map(([f, not, op, p]) => `${f} ${not ? 'not ' : ''}${op} ${quote(p)}`),
  fc
    .tuple(field, fc.boolean(), fc.array(literal, {minLength: 1, maxLength: 8}))
    .map(([f, not, vs]) => `${f} ${not ? 'not ' : ''}in (${vs.join(', ')})`),
  fc.tuple(field, fc.boolean(), literal, literal).map(([f, not, a, b]) => `${f} ${not ? 'not ' : ''}between ${a} and ${b}`),
  fc.tuple(field, fc.boolean()).map(([f, not]) => `${f} is ${not ? 'not ' : ''}null`),
)

const expression: fc.Arbitrary<string> = fc.letrec<{expr: string; and: string; or: string; not: string; paren: string}>((tie) => ({
  expr: fc.oneof({depthSize: 'small', maxDepth: 8}, comparison, tie('and'), tie('or'), tie('not'), tie('paren')),
  and: fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `${a} and ${b}`),
  or: fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `${a} OR ${b}`),
  not: tie('expr').map((e) => `not ${e}`),
  paren: tie('expr').map((e) => `(${e})`),
})).expr

/** Queries at and past the bounds: deep nesting, many terms, the costliest LIKE mix. */
const extreme = fc.oneof(
  fc.integer({min: 1, max: 3000}).map((n) => `${'('.repeat(n)}name = 'x'${')'.repeat(n)}`),
  fc.integer({min: 1, max: 60}).map((n) => `${'not '.repeat(n)}name = 'x'`),
  fc.integer({min: 1, max: 80}).map((n) => Array.from({length: n}, (_, i) => `timeout = ${i}`).join(' or ')),
  fc
    .integer({min: 1, max: 16})
    .map((n) => Array.from({length: n}, (_, i) => `${i % 2 ? 'prompt' : 'name'} like '${'%_'.repeat(127)}%b'`).join(' or ')),
  fc.integer({min: 4000, max: 5000}).map((n) => `name =${' '.repeat(n)}'x'`),
)

const junk = fc.oneof(
  fc.string({maxLength: 12}),
  fc.string({unit: 'binary', maxLength: 6}),
  fc.constantFrom(
    "'",
    '(',
    ')',
    ',',
    '%',
    '_',
    '\\',
    '\u0000',
    '\u202e',
    '😀',
    ' and ',
    ' or ',
    ' not ',
    '\n',
    '--',
    ';',
    '"',
    '`',
    '=',
    '<>',
    'like',
    'null',
  ),
)

/** A valid query with random edits: deletions, insertions of junk, duplicated and truncated slices. */
const mutated = fc
  .tuple(
    fc.oneof(expression, extreme),
    fc.array(fc.tuple(fc.constantFrom('delete', 'insert', 'duplicate', 'truncate'), fc.nat(), fc.nat({max: 30}), junk), {minLength: 1, maxLength: 4}),
  )
  .map(([q, edits]) => {
    let s = q
    for (const [op, at, len, text] of edits) {
      const i = s.length ? at % s.length : 0
      if (op === 'delete') s = s.slice(0, i) + s.slice(i + len)
      else if (op === 'insert') s = s.slice(0, i) + text + s.slice(i)
      else if (op === 'duplicate') s = s.slice(0, i + len) + s.slice(i)
      else s = s.slice(0, i)
    }
    return s
  })

const orderBy = fc.oneof(
  fc
    .array(fc.tuple(fc.constantFrom(...sessionFields, 'sessions.name', 'nope', ''), fc.constantFrom('', ' asc', ' DESC', ' sideways')), {
      maxLength: 20,
    })
    .map((keys) => keys.map(([f, d]) => `${f}${d}`).join(',')),
  fc.string({maxLength: 30}),
  fc.integer({min: 1000, max: 1100}).map((n) => `name${' '.repeat(n)}`),
)

const fieldsParam = fc.oneof(
  fc.array(fc.constantFrom(...sessionFields, 'kind', 'href', 'nope', ''), {maxLength: 40}).map((fs) => fs.join(',')),
  fc.integer({min: 2000, max: 2100}).map((n) => `name${','.repeat(n)}`),
)

const numberParam = fc.oneof(fc.integer({min: -5, max: 70_000}).map(String), fc.constantFrom('', 'x', '1.5', '1e3', '99999999999999999999999', ' 2'))

/** The query string of one list request. */
export const listQuery: fc.Arbitrary<string> = fc
  .record(
    {
      search: fc.oneof({weight: 4, arbitrary: expression}, {weight: 3, arbitrary: mutated}, {weight: 2, arbitrary: extreme}),
      orderBy,
      fields: fieldsParam,
      page: numberParam,
      size: numberParam,
    },
    {requiredKeys: ['search']},
  )
  .map((params) => new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)).toString())

// ---- bodies ----

/** Mostly small, sometimes up to `max`: sizes spread over orders of magnitude, cheap on average. */
const size = (max: number) => fc.oneof({weight: 6, arbitrary: fc.integer({min: 0, max: 64})}, {weight: 1, arbitrary: fc.integer({min: 64, max})})

/** A JSON text `depth` levels deep, built without recursion (so the generator itself cannot overflow). */
const deepJson = fc
  .tuple(size(60_000), fc.boolean())
  .map(([depth, arrays]) => (arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"k":'.repeat(depth)}0${'}'.repeat(depth)}`))

const oddValue = fc.oneof(
  fc.jsonValue({maxDepth: 3}).map((v) => JSON.stringify(v)),
  deepJson,
  fc.constantFrom('1e400', '-1e400', '-0', '2147483648', '-2147483649', '1.5', '0.1e1', 'true', 'null', '""', '"\\u0000"', '"\\ud800"', '[]', '{}'),
  size(300_000).map((n) => JSON.stringify('x'.repeat(n))),
  size(20_000).map((n) => `[${Array.from({length: n}, (_, i) => i).join(',')}]`),
  fc.string({maxLength: 30}).map((s) => JSON.stringify(s)),
  fc.constantFrom('"2026-01-01T00:00:00Z"', '"2026-13-45T99:99:99Z"', '"now"'),
)

const bodyKey = fc.oneof(
  fc.constantFrom(...sessionFields, 'id', 'kind', 'href', 'username', 'group_access', 'display_name'),
  fc.string({maxLength: 12}),
)

/** A JSON object body: a few keys with odd values, or very many keys. */
const objectBody = fc.oneof(
  fc.array(fc.tuple(bodyKey, oddValue), {maxLength: 6}).map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  size(90_000).map((n) => `{${Array.from({length: n}, (_, i) => `"k${i}":${i}`).join(',')}}`),
  fc.tuple(fc.string({maxLength: 10}), fc.integer({min: 1, max: 40})).map(([name, n]) => JSON.stringify({name, prompt: 'p'.repeat(n), timeout: n})),
)

/** Bodies that are not one JSON object: other JSON, broken JSON, bytes, nothing, over the size limit. */
const otherBody = fc.oneof(
  {weight: 20, arbitrary: deepJson},
  {weight: 20, arbitrary: fc.jsonValue({maxDepth: 2}).map((v) => JSON.stringify(v) ?? 'null')},
  {weight: 20, arbitrary: fc.string({maxLength: 40})},
  {weight: 20, arbitrary: objectBody.chain((b) => fc.nat({max: Math.max(0, b.length - 1)}).map((n) => b.slice(0, n)))},
  {
    weight: 20,
    arbitrary: fc.constantFrom('', '\uFEFF{}', '{"name": "a",}', '{"name": "a"}{"name": "b"}', 'NaN', '{"__proto__": {"polluted": 1}, "name": "x"}'),
  },
  // Over the 1 MiB body limit: 413.
  {weight: 1, arbitrary: fc.constant(`{"name": "big", "prompt": "${'x'.repeat(1024 * 1024)}"}`)},
)

export type BodyRoute = 'create-session' | 'patch-session' | 'patch-status' | 'create-project' | 'patch-project' | 'create-settings' | 'create-user'

export const bodyRequest = fc.record({
  route: fc.constantFrom<BodyRoute>(
    'create-session',
    'patch-session',
    'patch-status',
    'create-project',
    'patch-project',
    'create-settings',
    'create-user',
  ),
  body: fc.oneof({weight: 3, arbitrary: objectBody}, {weight: 2, arbitrary: otherBody}),
})
