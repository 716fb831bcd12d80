// What plan-check's working folders are made of (see ./index.ts): states, pins, the workspace.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Data sources the provider computes from the configuration alone, with no AWS call: left to it. */
export const LOCAL_DATA_SOURCES: ReadonlySet<string> = new Set(["aws_iam_policy_document", "aws_partition", "aws_region", "aws_arn"]);

/** The local every pinned reference reads. */
export const PINNED_LOCAL = "plan_check_pinned";
export const PINNED_FILE = "plan_check_pinned.json";

/** A raw Terraform state, format 4. */
export interface RawState {
  version: number;
  terraform_version?: string;
  serial?: number;
  lineage?: string;
  outputs?: JsonObject;
  resources: RawResource[];
  [key: string]: unknown;
}

export interface RawResource {
  module?: string;
  mode: "managed" | "data";
  type: string;
  name: string;
  provider: string;
  instances: RawInstance[];
}

export interface RawInstance {
  index_key?: number | string;
  schema_version?: number;
  attributes?: JsonObject;
  deposed?: string;
  [key: string]: unknown;
}

/** A block's shape in a provider schema: attribute names and nested blocks. */
export interface BlockShape {
  readonly a: readonly string[];
  readonly b: { readonly [name: string]: BlockShape };
}

/** What plan-check needs of the installed provider's schema, per resource type (`data.<type>` for data sources). */
export type SchemaSummary = { readonly [type: string]: { readonly version: number; readonly block: BlockShape } };

export interface PinSource {
  /** The snapshot's state, or null for an empty state. */
  readonly snapshot: RawState | null;
  /** Values given with --data, by address; they win over the snapshot's. */
  readonly data: Readonly<Record<string, Json>>;
  /** Another address under which a value may be recorded (the HCL address of a construct's data source). */
  readonly alias: (address: string) => string | undefined;
  /** Providers installed in the mirror, by local name (`aws`). */
  readonly installed: ReadonlySet<string>;
}

export interface Pin {
  readonly address: string;
  readonly kind: "data source" | "resource";
  /** Where the value came from. */
  readonly from: "snapshot" | "--data";
  /** The address the value is recorded under (the pin's, or its alias: the HCL address). */
  readonly recordedAs: string;
}

export interface Workspace {
  readonly dir: string;
  readonly pins: Pin[];
  /** Addresses pinned but recorded nowhere: plan-check refuses to run (exit 2). */
  readonly missing: string[];
  /** Pinned values the configuration cannot read as it does (an attribute missing, a string for an object): exit 2. */
  readonly problems: string[];
  /** What was changed in the configuration, one line each. */
  readonly adaptations: string[];
  /**
   * What `terraform init` depends on (provider requirements, module calls and
   * their sources): unchanged since the last run, init can be skipped.
   */
  readonly initInputs: string[];
}

/** The provider's local name of a resource type (`aws_instance` → `aws`). */
export const providerOf = (type: string) => type.split("_")[0];

/** A module-qualified name (`module.ssm.data.x`), or the name at the root. */
export const full = (modulePath: string, local: string) => (modulePath ? `${modulePath}.${local}` : local);
