/**
 * What the steps planned so far will have done to a host, for the steps after them (ctx.predict). Plans stay pure
 * and --check stays exact: a step that loads a module, writes a file or creates a chain records it here, and a later
 * step plans against that instead of the facts gathered before the run (docs/steps.md, "Predicted state").
 *
 * One typed store per kind of thing, each keyed by the parts that name it, so no step builds a key string by hand
 * and no two kinds can collide.
 */

/** One predicted value: undefined until a step of this run records what it leaves behind. */
export interface Prediction<V> {
  get(): V | undefined;
  set(value: V): void;
}

/** Values of one kind, keyed by the JSON of the parts that name a thing (unambiguous whatever the parts contain). */
class Store<V> {
  private readonly values = new Map<string, V>();

  at(...parts: ReadonlyArray<string | number>): Prediction<V> {
    const id = JSON.stringify(parts);
    return { get: () => this.values.get(id), set: (v) => void this.values.set(id, v) };
  }

  /** the first part of every recorded thing, e.g. the paths of the predicted files */
  firstParts(): string[] {
    return [...this.values.keys()].map((id) => String((JSON.parse(id) as unknown[])[0]));
  }
}

export type ServiceRunState = 'running' | 'stopped';

export class PredictedState {
  private readonly files = new Store<string>();
  private readonly modules = new Store<true>();
  private readonly links = new Store<boolean>();
  private readonly addresses = new Store<boolean>();
  private readonly routes = new Store<string | null>();
  private readonly chains = new Store<true>();
  private readonly rules = new Store<boolean>();
  private readonly services = new Store<ServiceRunState>();

  /** a file's content once the steps so far have written it */
  file(path: string): Prediction<string> {
    return this.files.at(path);
  }

  /** the files written so far whose path starts with `prefix` (e.g. a unit's drop-in directory) */
  filesStartingWith(prefix: string): string[] {
    return this.files.firstParts().filter((p) => p.startsWith(prefix));
  }

  /** a kernel module loaded by an earlier step; `name` as /proc/modules spells it (underscores: moduleKey) */
  module(name: string): Prediction<true> {
    return this.modules.at(name);
  }

  /** a network device: true when an earlier step creates (or ensures) it, false when one deletes it */
  link(name: string): Prediction<boolean> {
    return this.links.at(name);
  }

  /** an address (without prefix) on a device: true when added, false when removed */
  address(dev: string, ip: string): Prediction<boolean> {
    return this.addresses.at(dev, ip);
  }

  /** a main-table route by destination (CIDR): the `ip route` arguments it was set to, null when deleted */
  route(dest: string): Prediction<string | null> {
    return this.routes.at(dest);
  }

  /** a user-defined iptables chain created by an earlier step */
  chain(family: 4 | 6, table: string, chain: string): Prediction<true> {
    return this.chains.at(family, table, chain);
  }

  /** an iptables rule (its shell-quoted arguments) in a chain: true when added, false when deleted */
  rule(family: 4 | 6, table: string, chain: string, args: string): Prediction<boolean> {
    return this.rules.at(family, table, chain, args);
  }

  /** a service started (or reloaded, restarted) or stopped by an earlier step or handler */
  service(name: string): Prediction<ServiceRunState> {
    return this.services.at(name);
  }
}
