// The set of served resources: built-ins plus one entry per served version of each CRD, kept
// in sync with the customresourcedefinitions stored in the fake (so creating a CRD serves it).
import type {ResourceDef} from './resources.js'

export class Registry {
  private readonly builtins: ResourceDef[]
  private readonly crds = new Map<string, ResourceDef[]>()

  constructor(builtins: ResourceDef[]) {
    this.builtins = builtins
  }

  all(): ResourceDef[] {
    return [...this.builtins, ...[...this.crds.values()].flat()]
  }

  find(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.all().find((d) => d.group === group && d.version === version && d.plural === plural)
  }

  /** `plural` (core group first) or `plural.group`, optionally `plural.version.group`. */
  resolve(key: string): ResourceDef | undefined {
    const all = this.all()
    const dot = key.indexOf('.')
    if (dot < 0) return all.find((d) => d.plural === key && d.group === '') ?? all.find((d) => d.plural === key)
    const plural = key.slice(0, dot)
    const rest = key.slice(dot + 1)
    return all.find((d) => d.plural === plural && d.group === rest) ?? all.find((d) => d.plural === plural && `${d.version}.${d.group}` === rest)
  }

  setCrd(name: string, defs: ResourceDef[]): void {
    this.crds.set(name, defs)
  }

  removeCrd(name: string): ResourceDef[] {
    const defs = this.crds.get(name) ?? []
    this.crds.delete(name)
    return defs
  }

  /** Group name -> versions, in registration order (first = preferred). */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>()
    for (const d of this.all()) {
      const versions = out.get(d.group) ?? []
      if (!versions.includes(d.version)) versions.push(d.version)
      out.set(d.group, versions)
    }
    return out
  }
}
