// Contract section 2: every message's field numbers, names, types, presence and reserved
// numbers/names, every enum value and every service method, one test each. Checked twice: in
// the .proto files (compiled by buf into descriptors) and in the generated code in src/gen
// (which is what goes on the wire: a message with every field set is encoded and its tags read).
import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {fromBinary} from '@bufbuild/protobuf'
import {BinaryReader, type BinaryWriter} from '@bufbuild/protobuf/wire'
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorSetSchema,
  type DescriptorProto,
  type FileDescriptorSet,
} from '@bufbuild/protobuf/wkt'
import {beforeAll, describe, expect, it} from 'vitest'
import * as common from '../../src/gen/ambient/v1/common.js'
import * as projectSettings from '../../src/gen/ambient/v1/project_settings.js'
import * as projects from '../../src/gen/ambient/v1/projects.js'
import * as sessions from '../../src/gen/ambient/v1/sessions.js'
import * as users from '../../src/gen/ambient/v1/users.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** "<number> <name> <type>", type suffixed `?` for proto3 `optional`, `[]` for repeated. */
type FieldSpec = `${number} ${string} ${string}`
interface MessageSpec {
  fields: FieldSpec[]
  reserved?: {numbers: number[]; names: string[]}
}

const INTERACTIVE = (n: number) => ({numbers: [n], names: ['interactive']})
const RUNNER_SECRETS = (n: number) => ({numbers: [n], names: ['runner_secrets']})
const idOnly: MessageSpec = {fields: ['1 id string']}
const empty: MessageSpec = {fields: []}
const listRequest: MessageSpec = {fields: ['1 page int32', '2 size int32']}
const listResponse = (item: string): MessageSpec => ({fields: [`1 items ${item}[]`, '2 metadata ListMeta']})
const watchEvent = (field: string, type: string): MessageSpec => ({fields: ['1 type EventType', `2 ${field} ${type}`, '3 resource_id string']})

/** Contract section 2, message by message. */
const MESSAGES: Record<string, MessageSpec> = {
  ObjectReference: {fields: ['1 id string', '2 created_at Timestamp', '3 updated_at Timestamp', '4 kind string', '5 href string']},
  ListMeta: {fields: ['1 page int32', '2 size int32', '3 total int32']},
  Error: {fields: ['1 id string', '2 kind string', '3 href string', '4 code int32', '5 reason string', '6 operation_id string']},
  Session: {
    fields: [
      '1 metadata ObjectReference',
      '2 name string',
      '3 repo_url string?',
      '4 prompt string?',
      '5 created_by_user_id string?',
      '6 assigned_user_id string?',
      '7 workflow_id string?',
      '8 repos string?',
      '10 timeout int32?',
      '11 llm_model string?',
      '12 llm_temperature double?',
      '13 llm_max_tokens int32?',
      '14 parent_session_id string?',
      '15 bot_account_name string?',
      '16 resource_overrides string?',
      '17 environment_variables string?',
      '18 labels string?',
      '19 annotations string?',
      '20 project_id string?',
      '21 phase string?',
      '22 start_time Timestamp?',
      '23 completion_time Timestamp?',
      '24 sdk_session_id string?',
      '25 sdk_restart_count int32?',
      '26 conditions string?',
      '27 reconciled_repos string?',
      '28 reconciled_workflow string?',
      '29 kube_cr_name string?',
      '30 kube_cr_uid string?',
      '31 kube_namespace string?',
    ],
    reserved: INTERACTIVE(9),
  },
  UpdateSessionStatusRequest: {
    fields: [
      '1 id string',
      '2 phase string?',
      '3 start_time Timestamp?',
      '4 completion_time Timestamp?',
      '5 sdk_session_id string?',
      '6 sdk_restart_count int32?',
      '7 conditions string?',
      '8 reconciled_repos string?',
      '9 reconciled_workflow string?',
      '10 kube_cr_uid string?',
      '11 kube_namespace string?',
    ],
  },
  ListSessionsRequest: listRequest,
  ListSessionsResponse: listResponse('Session'),
  WatchSessionsRequest: empty,
  SessionWatchEvent: watchEvent('session', 'Session'),
  Project: {
    fields: [
      '1 metadata ObjectReference',
      '2 name string',
      '3 display_name string?',
      '4 description string?',
      '5 labels string?',
      '6 annotations string?',
      '7 status string?',
    ],
  },
  ProjectWatchEvent: watchEvent('project', 'Project'),
  ProjectSettings: {
    fields: ['1 metadata ObjectReference', '2 project_id string', '3 group_access string?', '5 repositories string?'],
    reserved: RUNNER_SECRETS(4),
  },
  ProjectSettingsWatchEvent: watchEvent('project_settings', 'ProjectSettings'),
  CreateSessionRequest: {
    fields: [
      '1 name string',
      '2 repo_url string?',
      '3 prompt string?',
      '4 created_by_user_id string?',
      '5 assigned_user_id string?',
      '6 workflow_id string?',
      '7 repos string?',
      '9 timeout int32?',
      '10 llm_model string?',
      '11 llm_temperature double?',
      '12 llm_max_tokens int32?',
      '13 parent_session_id string?',
      '14 bot_account_name string?',
      '15 resource_overrides string?',
      '16 environment_variables string?',
      '17 labels string?',
      '18 annotations string?',
      '19 project_id string?',
    ],
    reserved: INTERACTIVE(8),
  },
  UpdateSessionRequest: {
    fields: [
      '1 id string',
      '2 name string?',
      '3 repo_url string?',
      '4 prompt string?',
      '5 assigned_user_id string?',
      '6 workflow_id string?',
      '7 repos string?',
      '9 timeout int32?',
      '10 llm_model string?',
      '11 llm_temperature double?',
      '12 llm_max_tokens int32?',
      '13 parent_session_id string?',
      '14 bot_account_name string?',
      '15 resource_overrides string?',
      '16 environment_variables string?',
      '17 labels string?',
      '18 annotations string?',
      '19 project_id string?',
    ],
    reserved: INTERACTIVE(8),
  },
  CreateProjectRequest: {fields: ['1 name string', '2 display_name string?', '3 description string?', '4 labels string?', '5 annotations string?']},
  UpdateProjectRequest: {
    fields: [
      '1 id string',
      '2 name string?',
      '3 display_name string?',
      '4 description string?',
      '5 labels string?',
      '6 annotations string?',
      '7 status string?',
    ],
  },
  CreateProjectSettingsRequest: {fields: ['1 project_id string', '2 group_access string?', '4 repositories string?'], reserved: RUNNER_SECRETS(3)},
  UpdateProjectSettingsRequest: {
    fields: ['1 id string', '2 project_id string?', '3 group_access string?', '5 repositories string?'],
    reserved: RUNNER_SECRETS(4),
  },
  GetSessionRequest: idOnly,
  DeleteSessionRequest: idOnly,
  DeleteSessionResponse: empty,
  GetProjectRequest: idOnly,
  DeleteProjectRequest: idOnly,
  DeleteProjectResponse: empty,
  ListProjectsRequest: listRequest,
  ListProjectsResponse: listResponse('Project'),
  WatchProjectsRequest: empty,
  GetProjectSettingsRequest: idOnly,
  DeleteProjectSettingsRequest: idOnly,
  DeleteProjectSettingsResponse: empty,
  ListProjectSettingsRequest: listRequest,
  ListProjectSettingsResponse: listResponse('ProjectSettings'),
  WatchProjectSettingsRequest: empty,
  User: {fields: ['1 metadata ObjectReference', '2 username string', '3 name string', '4 email string?']},
  CreateUserRequest: {fields: ['1 username string', '2 name string', '3 email string?']},
  UpdateUserRequest: {fields: ['1 id string', '2 username string?', '3 name string?', '4 email string?']},
  GetUserRequest: idOnly,
  DeleteUserRequest: idOnly,
  DeleteUserResponse: empty,
  ListUsersRequest: listRequest,
  ListUsersResponse: listResponse('User'),
  WatchUsersRequest: empty,
  UserWatchEvent: watchEvent('user', 'User'),
}

/** Contract section 2, services: method -> [request, response, server-streaming]. */
const crud = (one: string, many: string, getReq = `Get${one}Request`): Record<string, [string, string, boolean]> => ({
  [`Get${one}`]: [getReq, one, false],
  [`Create${one}`]: [`Create${one}Request`, one, false],
  [`Update${one}`]: [`Update${one}Request`, one, false],
  [`Delete${one}`]: [`Delete${one}Request`, `Delete${one}Response`, false],
  [`List${many}`]: [`List${many}Request`, `List${many}Response`, false],
  [`Watch${many}`]: [`Watch${many}Request`, `${one}WatchEvent`, true],
})
const SERVICES: Record<string, Record<string, [string, string, boolean]>> = {
  SessionService: {...crud('Session', 'Sessions'), UpdateSessionStatus: ['UpdateSessionStatusRequest', 'Session', false]},
  ProjectService: crud('Project', 'Projects'),
  ProjectSettingsService: crud('ProjectSettings', 'ProjectSettings'),
  UserService: crud('User', 'Users'),
}

interface Codec {
  encode(message: unknown, writer?: BinaryWriter): BinaryWriter
  fromPartial(value: object): Record<string, unknown>
}
const GENERATED: Record<string, unknown> = {...common, ...sessions, ...projects, ...projectSettings, ...users}

function codec(name: string): Codec {
  const c = GENERATED[name] as Partial<Codec> | undefined
  if (!c || typeof c.encode !== 'function' || typeof c.fromPartial !== 'function') throw new Error(`src/gen has no message ${name}`)
  return c as Codec
}

interface ParsedField {
  number: number
  name: string
  type: string
  optional: boolean
  repeated: boolean
}

function parse(spec: FieldSpec): ParsedField {
  const [number, name, rawType] = spec.split(' ')
  const repeated = rawType.endsWith('[]')
  const optional = rawType.endsWith('?')
  return {number: Number(number), name, type: rawType.replace(/\[\]$|\?$/, ''), optional, repeated}
}

const SCALARS: Partial<Record<FieldDescriptorProto_Type, string>> = {
  [FieldDescriptorProto_Type.STRING]: 'string',
  [FieldDescriptorProto_Type.INT32]: 'int32',
  [FieldDescriptorProto_Type.DOUBLE]: 'double',
}

/** Short type name of a descriptor field: scalars by name, messages and enums by their last segment. */
function typeOf(field: DescriptorProto['field'][number]): string {
  const scalar = SCALARS[field.type]
  if (scalar) return scalar
  if (field.type === FieldDescriptorProto_Type.MESSAGE || field.type === FieldDescriptorProto_Type.ENUM) return field.typeName.split('.').at(-1) ?? ''
  return `type ${field.type}`
}

/** A non-default value of a field's type, so the generated encoder writes it. */
function sample(f: ParsedField): unknown {
  const one = (() => {
    switch (f.type) {
      case 'string':
        return 'x'
      case 'int32':
        return 7
      case 'double':
        return 1.5
      case 'Timestamp':
        return {seconds: 1, nanos: 0}
      case 'EventType':
        return 1
      default:
        return codec(f.type).fromPartial({})
    }
  })()
  return f.repeated ? [one] : one
}

/** Field numbers on the wire, in the order written. */
function wireNumbers(bytes: Uint8Array): number[] {
  const reader = new BinaryReader(bytes)
  const numbers: number[] = []
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag()
    numbers.push(no)
    reader.skip(wireType)
  }
  return numbers
}

let descriptors: FileDescriptorSet
const messageDescriptor = (name: string): DescriptorProto => {
  for (const file of descriptors.file) {
    if (file.package !== 'ambient.v1') continue
    const m = file.messageType.find((x) => x.name === name)
    if (m) return m
  }
  throw new Error(`no message ambient.v1.${name} in proto/`)
}

beforeAll(() => {
  // The .proto files as protoc sees them (buf is a devDependency; it runs offline).
  const bytes = execFileSync(`${ROOT}/node_modules/.bin/buf`, ['build', '--as-file-descriptor-set', '-o', '-'], {cwd: ROOT, maxBuffer: 1 << 24})
  descriptors = fromBinary(FileDescriptorSetSchema, bytes)
})

describe('contract 2: gRPC messages', () => {
  it('2 every message, enum and service is in package ambient.v1, and no message is missing or extra', () => {
    const ours = descriptors.file.filter((f) => f.name.startsWith('ambient/'))
    for (const file of ours) expect(file.package, file.name).toBe('ambient.v1')
    expect(ours.flatMap((f) => f.messageType.map((m) => m.name)).sort()).toEqual(Object.keys(MESSAGES).sort())
    expect(ours.flatMap((f) => f.service.map((s) => s.name)).sort()).toEqual(Object.keys(SERVICES).sort())
  })

  it('2 enum EventType: 0 EVENT_TYPE_UNSPECIFIED, 1 EVENT_TYPE_CREATED, 2 EVENT_TYPE_UPDATED, 3 EVENT_TYPE_DELETED', () => {
    const want = {EVENT_TYPE_UNSPECIFIED: 0, EVENT_TYPE_CREATED: 1, EVENT_TYPE_UPDATED: 2, EVENT_TYPE_DELETED: 3}
    const proto = descriptors.file.flatMap((f) => f.enumType).find((e) => e.name === 'EventType')
    expect(Object.fromEntries((proto?.value ?? []).map((v) => [v.name, v.number]))).toEqual(want)
    for (const [name, number] of Object.entries(want)) expect(common.EventType[name as keyof typeof common.EventType], name).toBe(number)
  })

  for (const [name, spec] of Object.entries(MESSAGES)) {
    const fields = spec.fields.map(parse)
    const reserved = spec.reserved ?? {numbers: [], names: []}
    const summary = fields.length ? fields.map((f) => `${f.number} ${f.name}`).join(' · ') : 'empty'
    const reservedText = reserved.numbers.length ? `, reserved ${reserved.numbers.join(',')} (${reserved.names.join(',')})` : ''
    it(`2 ${name}: ${summary}${reservedText}`, () => {
      // In proto/.
      const d = messageDescriptor(name)
      const actual = d.field.map((f) => ({
        number: f.number,
        name: f.name,
        type: typeOf(f),
        optional: f.proto3Optional,
        repeated: f.label === FieldDescriptorProto_Label.REPEATED,
      }))
      expect(actual).toEqual(fields)
      expect(d.reservedRange.flatMap((r) => Array.from({length: r.end - r.start}, (_, i) => r.start + i))).toEqual(reserved.numbers)
      expect(d.reservedName).toEqual(reserved.names)

      // In src/gen: the same names, and every field written under its number.
      const c = codec(name)
      expect(Object.keys(c.fromPartial({})).sort()).toEqual(fields.map((f) => f.name).sort())
      const full = c.fromPartial(Object.fromEntries(fields.map((f) => [f.name, sample(f)])))
      expect(wireNumbers(c.encode(full).finish())).toEqual(fields.map((f) => f.number))
    })
  }
})

describe('contract 2: gRPC services', () => {
  for (const [service, methods] of Object.entries(SERVICES)) {
    it(`2 ${service}: ${Object.keys(methods).join(', ')}`, () => {
      const d = descriptors.file.flatMap((f) => f.service).find((s) => s.name === service)
      expect(d, service).toBeDefined()
      const actual = Object.fromEntries(
        (d?.method ?? []).map((m) => [m.name, [m.inputType.split('.').at(-1), m.outputType.split('.').at(-1), m.serverStreaming]]),
      )
      expect(actual).toEqual(methods)
      // The generated service definition grpc-js serves and calls: the same paths and streaming.
      const generated = GENERATED[`${service}Service`] as Record<string, {path: string; requestStream: boolean; responseStream: boolean}> | undefined
      expect(generated, `${service}Service in src/gen`).toBeDefined()
      const paths = Object.values(generated ?? {}).map((m) => [m.path, m.requestStream, m.responseStream])
      expect(paths.sort()).toEqual(
        Object.entries(methods)
          .map(([m, [, , stream]]) => [`/ambient.v1.${service}/${m}`, false, stream])
          .sort(),
      )
    })
  }
})
