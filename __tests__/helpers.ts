import { Testing } from "cdktf";
import { EnvironmentConfig } from "../config/environment";
import { production } from "../config/environments";
import { ZivoHealthStack } from "../stacks/zivohealth-stack";

/** The synthesized stack as text (for the cdktf matchers) and as parsed JSON. */
export function synthStack(config: EnvironmentConfig = production, name = "production") {
  const stack = new ZivoHealthStack(Testing.app(), name, config);
  const text = Testing.synth(stack);
  return { stack, text, json: JSON.parse(text) as TerraformJson };
}

export interface TerraformJson {
  terraform: any;
  provider: Record<string, any[]>;
  variable: Record<string, any>;
  locals: Record<string, string>;
  data: Record<string, Record<string, any>>;
  resource: Record<string, Record<string, any>>;
  module: Record<string, any>;
  moved: { from: string; to: string }[];
  output: Record<string, { value: string; description?: string; sensitive?: boolean }>;
  import?: { to: string; id: string }[];
}

/**
 * Decodes a JSON string attribute that holds Terraform interpolations
 * (`"${element(split(":", x), 0)}"` has unescaped quotes inside `${}`):
 * each interpolation is kept verbatim as a string value.
 */
export function decodeTemplateJson(text: string): any {
  const parts: string[] = [];
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "$" && text[i + 1] === "{") {
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === "{") depth++;
        else if (text[j] === "}" && --depth === 0) break;
      }
      parts.push(text.slice(i, j + 1));
      out += `@@${parts.length - 1}@@`;
      i = j;
    } else out += text[i];
  }
  const restore = (v: any): any =>
    typeof v === "string"
      ? v.replace(/@@(\d+)@@/g, (_, n) => parts[Number(n)])
      : Array.isArray(v)
        ? v.map(restore)
        : v && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, restore(x)]))
          : v;
  return restore(JSON.parse(out));
}
