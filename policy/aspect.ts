// Runs the policy checks at every synth. cdktf invokes aspects before it
// writes the stack, visiting the construct tree top-down from the stack; this
// aspect acts only on the stack node: it resolves the stack's Terraform JSON
// (`TerraformStack.toTerraform()`, which App.synth also calls right after the
// aspects) and puts each finding as an annotation on the construct that
// synthesizes the flagged block (falling back to the stack). Annotations end
// up in cdktf.out/manifest.json and are printed by `cdktf synth`.
//
// An exemption that matches no finding throws a ValidationError.
//
// Annotation level: a warning for every finding, an info for exempted ones;
// an error (which makes `app.synth()` throw) only for a blocking severity AND
// when attached with `failSynth: true` - off by default, so synthesis never
// fails on policy unless asked; `npm run policy` is the gate.
//
// The aspect evaluates each stack once: invoking the aspects again on the same
// stack (Testing.synth, then app.synth) reuses the first result and adds no
// duplicate annotations. Changes made to the stack after its first evaluation
// (e.g. by an aspect added to a child construct) are not seen.
import {
  Annotations,
  Aspects,
  IAspect,
  TerraformDataSource,
  TerraformLocal,
  TerraformModule,
  TerraformOutput,
  TerraformResource,
  TerraformStack,
  TerraformVariable,
} from "cdktf";
import { IConstruct } from "constructs";
import { ValidationError } from "../modules/validation";
import { PolicyConfig, resolvePolicyConfig } from "./config";
import { evaluatePolicy, unmatchedExemptionProblems } from "./evaluate";
import { Finding, PolicyResult } from "./rules";

export interface PolicyAspectOptions {
  /**
   * Turn findings of a blocking severity (`PolicyConfig.blockingSeverities`)
   * into error annotations, which fail `app.synth()`.
   * @default false - warnings only
   */
  readonly failSynth?: boolean;
  /**
   * How error messages name the configuration's fields, e.g. `policy.config`
   * for an environment's `policy.config.exemptions[0]`.
   * @default - the PolicyConfig field names (`exemptions[0]`)
   */
  readonly configPath?: string;
}

/** The annotation text of a finding. */
export function formatFinding(f: Finding): string {
  const checkov = f.checkov ? `, ${f.checkov}` : "";
  const where = f.path ? ` [${f.path}]` : "";
  return `[${f.id}] (${f.severity}${checkov}) ${f.address}${where}: ${f.message}. Fix: ${f.fix}`;
}

/**
 * A stack that resolves itself once per synth: the aspect's resolution is
 * handed to the synthesizer's `toTerraform()` right after, instead of
 * resolving the whole stack twice.
 */
export interface ResolvesOncePerSynth {
  resolveForSynth(): unknown;
}

const resolvesOnce = (s: TerraformStack): s is TerraformStack & ResolvesOncePerSynth =>
  typeof (s as Partial<ResolvesOncePerSynth>).resolveForSynth === "function";

export class PolicyAspect implements IAspect {
  public readonly config: PolicyConfig;
  public readonly failSynth: boolean;
  private readonly configPath?: string;
  private readonly results = new WeakMap<TerraformStack, PolicyResult>();

  constructor(config: Partial<PolicyConfig> = {}, options: PolicyAspectOptions = {}) {
    this.config = resolvePolicyConfig(config);
    this.failSynth = options.failSynth ?? false;
    this.configPath = options.configPath;
  }

  public visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node) || this.results.has(node)) return;
    let doc: unknown;
    try {
      doc = resolvesOnce(node) ? node.resolveForSynth() : node.toTerraform();
    } catch (e) {
      // Synthesis reports the real problem; the policy does not mask it.
      Annotations.of(node).addWarning(`[policy] the stack could not be resolved, no policy check ran: ${(e as Error).message}`);
      return;
    }
    const result = evaluatePolicy(doc, this.config);
    // A stale or mistyped exemption would silently accept nothing: refuse it.
    const stale = unmatchedExemptionProblems(result, this.configPath ? `${this.configPath}.exemptions` : "exemptions");
    if (stale.length > 0) throw new ValidationError(`policy exemptions of stack '${node.node.id}'`, stale);
    this.results.set(node, result);
    const owners = ownersByAddress(node);
    for (const f of result.findings) {
      const target = ownerOf(f.address, owners) ?? node;
      const text = formatFinding(f);
      if (this.failSynth && this.config.blockingSeverities.includes(f.severity)) Annotations.of(target).addError(text);
      else Annotations.of(target).addWarning(text);
    }
    for (const f of result.exempted) {
      Annotations.of(ownerOf(f.address, owners) ?? node).addInfo(`exempted: ${formatFinding(f)} Reason: ${f.reason}`);
    }
  }

  /** The evaluation of a stack this aspect visited, if it did. */
  public resultFor(stack: TerraformStack): PolicyResult | undefined {
    return this.results.get(stack);
  }
}

/**
 * Runs the policy checks on `stack` at every synth (warnings; errors only with
 * `options.failSynth`). Call once per stack, e.g. at the end of its constructor:
 * `attachPolicy(this);`. Throws if the stack already has a PolicyAspect.
 */
export function attachPolicy(stack: TerraformStack, config: Partial<PolicyConfig> = {}, options: PolicyAspectOptions = {}): PolicyAspect {
  if (Aspects.of(stack).all.some((a) => a instanceof PolicyAspect)) {
    throw new Error(`attachPolicy: stack '${stack.node.id}' already has a PolicyAspect`);
  }
  const aspect = new PolicyAspect(config, options);
  Aspects.of(stack).add(aspect);
  return aspect;
}

/**
 * Construct of each address a finding can carry: Terraform addresses
 * (`aws_x.name`, `data.aws_x.name`) and the JSON-path roots of the secret scan
 * (`resource.aws_x.name`, `data.…`, `variable.name`, `module.name`,
 * `output.name`, `locals.name`).
 */
function ownersByAddress(stack: TerraformStack): Map<string, IConstruct> {
  const owners = new Map<string, IConstruct>();
  for (const c of stack.node.findAll()) {
    if (TerraformResource.isTerraformResource(c)) {
      owners.set(`${c.terraformResourceType}.${c.friendlyUniqueId}`, c);
      owners.set(`resource.${c.terraformResourceType}.${c.friendlyUniqueId}`, c);
    } else if (TerraformDataSource.isTerraformDataSource(c)) {
      owners.set(`data.${c.terraformResourceType}.${c.friendlyUniqueId}`, c);
    } else if (c instanceof TerraformVariable) {
      owners.set(`variable.${c.friendlyUniqueId}`, c);
    } else if (c instanceof TerraformModule) {
      owners.set(`module.${c.friendlyUniqueId}`, c);
    } else if (TerraformOutput.isTerraformOutput(c)) {
      owners.set(`output.${c.friendlyUniqueId}`, c);
    } else if (c instanceof TerraformLocal) {
      owners.set(`locals.${c.friendlyUniqueId}`, c);
    }
  }
  return owners;
}

/**
 * The construct owning the longest known prefix of `address`: the address itself, or a part of it that a `.`
 * or `[` follows. Looked up from the longest down, not by a scan of every owner for every finding.
 */
function ownerOf(address: string, owners: Map<string, IConstruct>): IConstruct | undefined {
  const exact = owners.get(address);
  if (exact) return exact;
  for (let end = address.length - 1; end > 0; end--) {
    if (address[end] !== "." && address[end] !== "[") continue;
    const owner = owners.get(address.slice(0, end));
    if (owner) return owner;
  }
  return undefined;
}
