// Stage "tag": a command handler. Reads {item, results, context} as JSON on stdin and prints
// its result as JSON on stdout. Exit 10 skips the stage, 11 fails it for good, 75 retries later.
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { item, results } = JSON.parse(input);
const words = results.read.words;
if (words === 0) {
  process.stdout.write(JSON.stringify({ reason: `${item.key} is empty` }));
  process.exit(10);
}
const size = words < 50 ? "short" : words < 200 ? "medium" : "long";
process.stdout.write(JSON.stringify({ size }));
