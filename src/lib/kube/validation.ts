// Kubernetes' own naming rules (k8s.io/apimachinery/pkg/util/validation), checked before a
// write so a bad name becomes a clear message on the session instead of a 422 retried forever.

const DNS1123_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/
const DNS1123_SUBDOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

export const DNS1123_LABEL_MAX = 63
export const DNS1123_SUBDOMAIN_MAX = 253
/** Total size of all annotation keys and values of one object. */
export const ANNOTATIONS_MAX_BYTES = 256 * 1024

/** undefined when valid, else why not. */
export function checkDns1123Label(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty'
  if (value.length > DNS1123_LABEL_MAX) return `must be no more than ${DNS1123_LABEL_MAX} characters (has ${value.length})`
  if (!DNS1123_LABEL.test(value)) {
    return "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
  }
  return undefined
}

export function checkDns1123Subdomain(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty'
  if (value.length > DNS1123_SUBDOMAIN_MAX) return `must be no more than ${DNS1123_SUBDOMAIN_MAX} characters`
  if (!DNS1123_SUBDOMAIN.test(value)) {
    return "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
  }
  return undefined
}

/** Label and annotation keys: `[prefix/]name`, prefix a DNS subdomain, name <= 63. */
export function checkQualifiedName(key: string): string | undefined {
  const parts = key.split('/')
  if (parts.length > 2) return "must be a name with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
  const [first = '', second] = parts
  const name = second ?? first
  if (second !== undefined) {
    const prefixProblem = checkDns1123Subdomain(first)
    if (prefixProblem) return `prefix ${prefixProblem}`
  }
  if (name.length === 0) return 'name part must not be empty'
  if (name.length > DNS1123_LABEL_MAX) return `name part must be no more than ${DNS1123_LABEL_MAX} characters`
  if (!QUALIFIED_NAME_PART.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
  }
  return undefined
}

export function checkLabelValue(value: string): string | undefined {
  if (value.length > DNS1123_LABEL_MAX) return `must be no more than ${DNS1123_LABEL_MAX} characters`
  if (!LABEL_VALUE.test(value)) {
    return "must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
  }
  return undefined
}

/** Lower-cases, replaces what a DNS label cannot hold with '-', trims; may return ''. */
export function sanitizeDns1123Label(value: string, maxLength = DNS1123_LABEL_MAX): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, maxLength)
    .replace(/^-+|-+$/g, '')
}
