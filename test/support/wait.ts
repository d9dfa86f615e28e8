/**
 * Resolves with the first match of `pattern` in what `text()` returns (a child's output so
 * far), looked for every 50 ms; rejects after `timeoutMs` with the text, so a failure shows it.
 */
export function waitForMatch(text: () => string, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  return new Promise((resolvePromise, reject) => {
    const timer = setInterval(() => {
      const m = pattern.exec(text());
      if (m) {
        clearInterval(timer);
        clearTimeout(deadline);
        resolvePromise(m);
      }
    }, 50);
    const deadline = setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`timed out waiting for ${pattern}; output so far:\n${text()}`));
    }, timeoutMs);
  });
}
