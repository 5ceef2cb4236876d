/** The part of madge's API the architecture test uses (madge ships no types). */
declare module "madge" {
  interface MadgeResult {
    /** Each import cycle as the list of its modules, relative to the folder given. */
    circular(): string[][];
    /** The import graph: module → the modules it imports. */
    obj(): Record<string, string[]>;
  }
  interface MadgeOptions {
    fileExtensions?: string[];
    tsConfig?: string;
    detectiveOptions?: Record<string, Record<string, boolean>>;
  }
  /** Reads the import graph below a folder or of a list of files. */
  export default function madge(path: string | string[], options?: MadgeOptions): Promise<MadgeResult>;
}
