// A promise with its resolve/reject exposed: the viewer handle's `ready` and `loaded`.
export function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
