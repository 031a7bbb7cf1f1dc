// An installed canwire loaded from CommonJS: require() of the ESM package
// (require(esm), unflagged since Node 20.19 and 22.12).
"use strict";
const { checkInstalled } = require("./check-installed.cjs");

const canwire = require("canwire");
checkInstalled("require", canwire, require.cache).catch((error) => {
  console.error(error);
  process.exit(1);
});
