// Values that repeat across the objects of a list (kind, project, repository, model, phase,
// labels...) are stored once: a 100k-session cache then holds one copy of each instead of
// 100k (the JSON parser makes a new string per value). Applied by the informer to the objects
// of a list, which brings every object at once; watch events bring a few at a time and are
// left as they come, off the hot path.

/** Fields whose values repeat across objects of the Ambient API's resources. */
const SHARED_FIELDS = [
  'kind',
  'project_id',
  'repo_url',
  'workflow_id',
  'llm_model',
  'phase',
  'labels',
  'annotations',
  'created_by_user_id',
  'assigned_user_id',
  'bot_account_name',
] as const

type SharedField = (typeof SHARED_FIELDS)[number]
const MAX_ENTRIES = 10_000
const MAX_LENGTH = 256

export class SharedStrings {
  private readonly table = new Map<string, string>()

  /** Replaces the object's repeated string values, in place, with the shared copy. */
  share(object: Partial<Record<SharedField, unknown>>): void {
    for (const key of SHARED_FIELDS) {
      const value = object[key]
      if (typeof value === 'string') object[key] = this.intern(value)
    }
  }

  private intern(value: string): string {
    if (value.length > MAX_LENGTH) return value
    const shared = this.table.get(value)
    if (shared !== undefined) return shared
    // Bounded: past the limit the table starts over (values stay correct, only less shared).
    if (this.table.size >= MAX_ENTRIES) this.table.clear()
    this.table.set(value, value)
    return value
  }
}
