// Runtime bootstrap for one local Lambda instance (a child process of the local cloud).
// It plays the part of the Node.js managed runtime (Lambda Developer Guide, "Lambda execution
// environment lifecycle", "Define Lambda function handler in Node.js"): the Init phase loads
// the handler module once (module scope runs once per instance: the cold start); each Invoke
// arrives over IPC and calls the handler with the event and a context object.
// Plain JavaScript so that it runs under bare `node`, with no loader from the parent process.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

// The local cloud, not a signal, ends an instance: it kills it, or the instance exits when its
// IPC channel closes (below). The instance runs in a process group of its own, so Ctrl-C in the
// cloud's terminal does not reach it; a signal sent to it anyway is ignored from here on, so an
// Init or an invocation in flight finishes and the cloud's clean stop can wait for it.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});

const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const handlerSetting = process.env._HANDLER ?? 'index.handler';

/** The request being served; console lines and crashes are attributed to it. */
let currentRequestId;

// Console lines as the managed runtime writes them: time, request id, level, message.
for (const [method, level] of [
  ['log', 'INFO'],
  ['info', 'INFO'],
  ['warn', 'WARN'],
  ['error', 'ERROR'],
  ['debug', 'DEBUG'],
  ['trace', 'TRACE'],
]) {
  const stream = level === 'ERROR' || level === 'WARN' ? process.stderr : process.stdout;
  console[method] = (...args) => {
    stream.write(
      `${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\t${level}\t${format(...args)}\n`,
    );
  };
}

function errorShape(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || 'Error',
      errorMessage: err.message,
      trace: typeof err.stack === 'string' ? err.stack.split('\n') : [],
    };
  }
  return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

function send(message) {
  if (process.connected) process.send(message);
}

async function loadHandler() {
  const slash = handlerSetting.lastIndexOf('/');
  const dir = handlerSetting.slice(0, slash + 1);
  const rest = handlerSetting.slice(slash + 1);
  const dot = rest.indexOf('.');
  if (dot <= 0) {
    throw Object.assign(new Error(`Bad handler ${handlerSetting}: it must look like file.export`), {
      name: 'Runtime.MalformedHandlerName',
    });
  }
  const moduleName = dir + rest.slice(0, dot);
  const path = rest.slice(dot + 1).split('.');
  const file = ['.js', '.mjs', '.cjs']
    .map((ext) => join(taskRoot, moduleName + ext))
    .find((candidate) => existsSync(candidate));
  if (!file) {
    throw Object.assign(new Error(`Error: Cannot find module '${moduleName}'`), {
      name: 'Runtime.ImportModuleError',
    });
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    if (err instanceof SyntaxError) throw Object.assign(err, { name: 'Runtime.UserCodeSyntaxError' });
    // A package the bundle left out and the runtime does not provide (only the AWS SDK is).
    if (err?.code === 'MODULE_NOT_FOUND' || err?.code === 'ERR_MODULE_NOT_FOUND') {
      throw Object.assign(new Error(`Error: ${err.message}`), { name: 'Runtime.ImportModuleError' });
    }
    throw err;
  }
  const pick = (root) => path.reduce((value, key) => (value == null ? undefined : value[key]), root);
  const fn = pick(mod) ?? pick(mod.default);
  if (typeof fn !== 'function') {
    throw Object.assign(new Error(`${handlerSetting} is undefined or not exported`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return fn;
}

function contextFor(message) {
  const c = message.context;
  const deadline = c.deadlineMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: c.functionName,
    functionVersion: c.functionVersion,
    invokedFunctionArn: c.invokedFunctionArn,
    memoryLimitInMB: c.memoryLimitInMB,
    awsRequestId: message.requestId,
    logGroupName: c.logGroupName,
    logStreamName: c.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    succeed: () => {},
    fail: () => {},
  };
}

/** Calls an async handler, or a callback-style one (three parameters). */
function call(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn) => (value) => {
      if (!settled) {
        settled = true;
        fn(value);
      }
    };
    const ok = settle(resolve);
    const fail = settle(reject);
    context.done = (err, value) => (err ? fail(err) : ok(value));
    context.succeed = (value) => ok(value);
    context.fail = (err) => fail(err);
    const callback = (err, value) => (err !== undefined && err !== null ? fail(err) : ok(value));
    let result;
    try {
      result = handler(event, context, callback);
    } catch (err) {
      fail(err);
      return;
    }
    if (result && typeof result.then === 'function') result.then(ok, fail);
    else if (handler.length < 3) ok(result);
  });
}

function crash(err) {
  const shape = errorShape(err);
  process.stderr.write(
    `${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\tERROR\t${shape.errorType}: ${shape.errorMessage}\n`,
  );
  if (currentRequestId) send({ type: 'error', requestId: currentRequestId, error: shape });
  process.exitCode = 129;
  setImmediate(() => process.exit(129));
}
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

let handler;
try {
  handler = await loadHandler();
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'initError', error: errorShape(err) });
}

process.on('message', async (message) => {
  if (message?.type !== 'invoke') return;
  if (!handler) return;
  currentRequestId = message.requestId;
  try {
    const value = await call(handler, message.event, contextFor(message));
    let payload;
    try {
      payload = JSON.stringify(value === undefined ? null : value);
    } catch (err) {
      send({ type: 'error', requestId: message.requestId, error: errorShape(err) });
      return;
    }
    send({ type: 'result', requestId: message.requestId, payload });
  } catch (err) {
    send({ type: 'error', requestId: message.requestId, error: errorShape(err) });
  } finally {
    currentRequestId = undefined;
  }
});

// Keep the process alive while the parent is connected, even with an empty event loop.
process.on('disconnect', () => process.exit(0));
