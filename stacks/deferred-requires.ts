// What cdktf's index loads and this app never runs: archiver (with its ~60
// modules), with which cdktf zips a TerraformAsset's folder (in a node process of
// its own: it runs that same file as a script), and semver, with which it compares
// a binary's version for ValidateBinaryVersion, which the app skips
// (skipValidation). Together they were a third of `node -e "require('cdktf')"`
// (0.27 s; 0.18 s with this installed first). Each is loaded at its first use
// instead, so code that does use one gets the real module.
import Module from "module";
import * as path from "path";

/** The requires deferred: the module, and the file of cdktf that requires it. */
export const DEFERRED_REQUIRES: ReadonlyArray<{ readonly request: string; readonly from: string }> = [
  { request: "archiver", from: "cdktf/lib/private/fs.js" },
  { request: "semver", from: "cdktf/lib/validations/validate-binary-version.js" },
];

type Load = (request: string, parent: { filename?: string } | null | undefined, isMain: boolean) => unknown;
const Loader = Module as unknown as { _load: Load };

let installed = false;

/** From now on, the requires in DEFERRED_REQUIRES get a stand-in that loads the module when first used. Once per process. */
export function installDeferredRequires(): boolean {
  if (installed) return false;
  installed = true;
  const suffixes = DEFERRED_REQUIRES.map((d) => ({ request: d.request, suffix: path.join("node_modules", ...d.from.split("/")) }));
  const original = Loader._load;
  Loader._load = function (request, parent, isMain) {
    const filename = parent?.filename;
    if (filename && suffixes.some((d) => d.request === request && filename.endsWith(d.suffix))) {
      return lazyModule(() => original.call(Module, request, parent, isMain));
    }
    return original.call(this, request, parent, isMain);
  };
  return true;
}

/** A stand-in for a module that `load` gives at its first use (a call, `new`, a property, `in`). */
export function lazyModule(load: () => any): unknown {
  let real: any;
  const module = () => (real ??= load());
  return new Proxy(function deferred() {}, {
    apply: (_t, self, args) => Reflect.apply(module(), self, args),
    construct: (_t, args) => Reflect.construct(module(), args),
    get: (_t, key) => module()[key],
    has: (_t, key) => key in module(),
  });
}
