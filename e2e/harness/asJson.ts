/** Response bodies in tests are arbitrary JSON; assertions check their shape. */
// biome-ignore lint/suspicious/noExplicitAny: test-side view of an untyped JSON body
export type Json = any;

/** `res.json().then(asJson)`: lets a test read fields without casts. */
export function asJson(v: unknown): Json {
  return v;
}
