// A TypeScript CommonJS consumer: `require` of the ESM package (TypeScript 5.8+ with module nodenext).
import canwire = require("canwire");

const opening: Promise<canwire.Bus> = canwire.Bus.open({ interface: "virtual", channel: "types" });
export = opening;
