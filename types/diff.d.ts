// The part of jsdiff 4 (package "diff", no types of its own) synth-diff uses: a unified diff as hunks.
declare module "diff" {
  export interface Hunk {
    oldStart: number;
    oldLines: number;
    newStart: number;
    newLines: number;
    /** Each line prefixed with " ", "-" or "+" (or "\\ No newline at end of file"). */
    lines: string[];
  }
  export function structuredPatch(
    oldFileName: string,
    newFileName: string,
    oldStr: string,
    newStr: string,
    oldHeader?: string,
    newHeader?: string,
    options?: { context?: number },
  ): { hunks: Hunk[] };
}
