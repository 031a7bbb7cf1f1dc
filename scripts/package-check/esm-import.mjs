// An installed canwire loaded the way its README shows: an ESM import.
import { createRequire } from "node:module";
import * as canwire from "canwire";
import { checkInstalled } from "./check-installed.cjs";

await checkInstalled("import", canwire, createRequire(import.meta.url).cache);
