// Decodes one FIT file with Garmin's JavaScript SDK and prints what it read as JSON on stdout:
// {"isFit", "integrity", "errors", "messages"}. Used by the Python tests as a second,
// independent decoder; it never exits non-zero for a bad file, it reports it.
import { readFileSync } from "node:fs";
import { Decoder, Stream } from "@garmin/fitsdk";

const bytes = readFileSync(process.argv[2]);
const stream = Stream.fromByteArray(Array.from(bytes));
const decoder = new Decoder(stream);
const isFit = decoder.isFIT();
const integrity = isFit && decoder.checkIntegrity();
// checkIntegrity() consumes the stream: read from a fresh decoder.
const { messages, errors } = new Decoder(Stream.fromByteArray(Array.from(bytes))).read({
  expandSubFields: false,
  convertDateTimesToDates: false,
});
process.stdout.write(
  JSON.stringify({ isFit, integrity, errors: errors.map(String), messages }),
);
