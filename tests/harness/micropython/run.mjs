// Runs one MicroPython script on the WebAssembly port of real MicroPython.
//
// Reads a JSON request on stdin: {"files": {"/lib/pkg/mod.py": "source", ...},
// "binary_files": {"/lib/pkg/mod.mpy": "base64", ...}, "script": "python source",
// "heapsize": bytes}. Writes every file into the
// in-memory filesystem (so packages import as they would from a board's /lib),
// runs the script and passes its print output through to stdout. Exits 1 with
// the MicroPython traceback on stderr when the script raises.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (c) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

function makeDirs(FS, path) {
  const parts = path.split("/").filter((p) => p.length > 0);
  let current = "";
  for (const part of parts.slice(0, -1)) {
    current += "/" + part;
    try {
      FS.mkdir(current);
    } catch (err) {
      // EEXIST: another file already created this folder.
    }
  }
}

const request = JSON.parse(await readStdin());
const out = [];
const mp = await loadMicroPython({
  heapsize: request.heapsize || 1024 * 1024,
  stdout: (data) => { out.push(typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data)); },
  linebuffer: false,
});
for (const [path, source] of Object.entries(request.files || {})) {
  makeDirs(mp.FS, path);
  mp.FS.writeFile(path, source);
}
for (const [path, b64] of Object.entries(request.binary_files || {})) {
  makeDirs(mp.FS, path);
  mp.FS.writeFile(path, new Uint8Array(Buffer.from(b64, "base64")));
}
// A list of scripts runs as consecutive top-level calls sharing one interpreter. The port's
// garbage collector can only reclaim memory between such calls (it cannot see roots held on
// the wasm stack), so long runs split into steps keep the heap, and timings, realistic.
const scripts = Array.isArray(request.script) ? request.script : [request.script];
let code = 0;
try {
  for (const script of scripts) {
    mp.runPython(script);
  }
} catch (err) {
  process.stderr.write(String(err && err.message ? err.message : err) + "\n");
  code = 1;
}
process.stdout.write(Buffer.concat(out));
process.exitCode = code;
