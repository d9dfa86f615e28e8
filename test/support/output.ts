/** Resolves with the first match of `pattern` in what `read()` returns past `from`, polling; rejects after `timeoutMs` with the output so far. */
export function waitForOutput(read: () => string, pattern: RegExp, from = 0, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolvePromise, reject) => {
    const check = () => {
      const m = pattern.exec(read().slice(from));
      if (!m) return;
      clearInterval(timer);
      clearTimeout(deadline);
      resolvePromise(m);
    };
    const timer = setInterval(check, 50);
    const deadline = setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`timed out waiting for ${pattern}; output so far:\n${read().slice(from)}`));
    }, timeoutMs);
    check();
  });
}
