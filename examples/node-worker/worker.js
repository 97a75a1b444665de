#!/usr/bin/env node
// A futured worker in Node.js, written from proto/futured.proto alone
// (its "Workers" section) with protobufjs from npm: nothing else of
// futured's.  It serves
//
//   node.upper	the payload in capitals
//   node.sleep	waits ARG ms (default 10000) on the event loop, many at
//		once; a TaskCancel stops it
//   node.fail	fails with a message, a type and a stack as its detail
//
// Usage: node worker.js [SOCKET]; the socket defaults to $FUTURED_SOCKET.
// $FUTURED_PROTO names futured.proto (default: ../../proto/ beside this
// file, as in futured's source tree).  Lines on stdout say what happens,
// for people and for tests: "registered", "start JOB ATTEMPT",
// "cancel JOB ATTEMPT".

'use strict';

const net = require('net');
const path = require('path');
const protobuf = require('protobufjs');

const PROTOCOL_VERSION = 1;
const CONCURRENCY = 64;

const sockPath = process.argv[2] || process.env.FUTURED_SOCKET;
if (!sockPath) {
	console.error('usage: node worker.js SOCKET (or set FUTURED_SOCKET)');
	process.exit(2);
}
const protoPath = process.env.FUTURED_PROTO ||
    path.join(__dirname, '..', '..', 'proto', 'futured.proto');

const root = protobuf.loadSync(protoPath);
const Request = root.lookupType('futured.Request');
const Response = root.lookupType('futured.Response');
const Kind = root.lookupEnum('futured.Kind').values;
const ErrorCode = root.lookupEnum('futured.ErrorCode').values;

let nextId = 1;
const waiting = new Map();	// request id -> function(response)
const held = new Map();		// "job/attempt" -> { timer, ... }
let leaseMs = 0;
let lastSent = Date.now();
let pingTimer = null;

const sock = net.createConnection(sockPath);

// A frame: a 4-byte big-endian length, then one Request.
function send(body, onAnswer) {
	const id = nextId++;
	const msg = Request.create(Object.assign({ id: id }, body));
	const bytes = Request.encode(msg).finish();
	const hdr = Buffer.alloc(4);
	hdr.writeUInt32BE(bytes.length, 0);
	sock.write(Buffer.concat([hdr, Buffer.from(bytes)]));
	lastSent = Date.now();
	if (onAnswer)
		waiting.set(id, onAnswer);
	return id;
}

// While tasks are held, the daemon wants a word at least every lease:
// a Ping when nothing else was sent for a third of it.
function keepLease() {
	if (pingTimer !== null || held.size === 0 || leaseMs <= 0)
		return;
	const due = lastSent + Math.floor(leaseMs / 3) - Date.now();
	pingTimer = setTimeout(() => {
		pingTimer = null;
		if (held.size === 0)
			return;
		if (Date.now() - lastSent >= Math.floor(leaseMs / 3))
			send({ ping: {} });
		keepLease();
	}, Math.max(due, 0));
}

function key(jobId, attempt) {
	return String(jobId) + '/' + attempt;
}

// The outcome, or progress and output along the way.  An update the
// daemon refuses with ERR_NOT_FOUND is for an attempt it took back
// (cancelled, timed out): no error of ours.
function update(task, fields) {
	const u = Object.assign({ jobId: task.jobId, attempt: task.attempt },
	    fields);
	send({ taskUpdate: u }, (r) => {
		if (r.error && r.error.code !== ErrorCode.ERR_NOT_FOUND)
			console.error('update of job ' + task.jobId +
			    ' refused: ' + r.error.message);
	});
	if (fields.done)
		held.delete(key(task.jobId, task.attempt));
}

function succeed(task, output) {
	update(task, { done: true, ok: true, output: Buffer.from(output) });
}

function fail(task, message, type, detail) {
	update(task, { done: true, ok: false, error: message,
	    errorType: type, errorDetail: detail });
}

const handlers = {
	'node.upper': {
		kinds: [Kind.KIND_ASYNC, Kind.KIND_BLOCKING],
		description: 'the payload in capitals',
		run(task) {
			const p = task.payload ? Buffer.from(task.payload) :
			    Buffer.alloc(0);
			succeed(task, p.toString('utf8').toUpperCase());
		}
	},
	'node.sleep': {
		kinds: [Kind.KIND_ASYNC],
		description: 'wait ARG ms on the event loop',
		run(task, slot) {
			const ms = task.args.length > 0 ?
			    parseInt(task.args[0], 10) : 10000;
			update(task, { progress: 0, progressMsg: 'sleeping' });
			slot.timer = setTimeout(() => succeed(task, 'slept\n'),
			    ms);
		}
	},
	'node.fail': {
		kinds: [Kind.KIND_ASYNC],
		description: 'fail, with a type and a stack',
		run(task) {
			const e = new RangeError('node.fail asked to fail');
			fail(task, e.message, e.name, e.stack);
		}
	}
};

function onTask(task) {
	const slot = { timer: null };
	held.set(key(task.jobId, task.attempt), slot);
	console.log('start ' + task.jobId + ' ' + task.attempt);
	keepLease();
	const h = handlers[task.handler];
	if (!h) {
		fail(task, 'no handler ' + task.handler + ' here');
		return;
	}
	try {
		h.run(task, slot);
	} catch (e) {
		fail(task, String(e.message), e.name, e.stack);
	}
}

// Stop the attempt: its outcome is no longer wanted.
function onCancel(tc) {
	const k = key(tc.jobId, tc.attempt);
	const slot = held.get(k);
	if (!slot)
		return;
	if (slot.timer !== null)
		clearTimeout(slot.timer);
	held.delete(k);
	console.log('cancel ' + tc.jobId + ' ' + tc.attempt);
}

function onResponse(r) {
	const id = Number(r.id);
	if (id === 0) {
		if (r.task)
			onTask(r.task);
		else if (r.taskCancel)
			onCancel(r.taskCancel);
		else if (r.error) {
			console.error('futured: ' + r.error.message);
			sock.destroy();
		}
		return;
	}
	const fn = waiting.get(id);
	if (fn) {
		waiting.delete(id);
		fn(r);
	}
}

let inbuf = Buffer.alloc(0);
sock.on('data', (chunk) => {
	inbuf = Buffer.concat([inbuf, chunk]);
	while (inbuf.length >= 4) {
		const len = inbuf.readUInt32BE(0);
		if (inbuf.length < 4 + len)
			break;
		const frame = inbuf.subarray(4, 4 + len);
		inbuf = inbuf.subarray(4 + len);
		onResponse(Response.decode(frame));
	}
});

sock.on('connect', () => {
	send({ hello: { version: PROTOCOL_VERSION, client: 'node-worker' } },
	    (r) => {
		if (!r.hello) {
			console.error('futured: ' + r.error.message);
			process.exit(1);
		}
	});
	const hs = Object.keys(handlers).map((name) => ({
		name: name,
		kinds: handlers[name].kinds,
		description: handlers[name].description
	}));
	send({ workerRegister: { handlers: hs, concurrency: CONCURRENCY,
	    name: 'node-worker' } }, (r) => {
		if (!r.workerRegister) {
			console.error('futured refused the worker: ' +
			    r.error.message);
			process.exit(1);
		}
		leaseMs = Number(r.workerRegister.leaseMs);
		console.log('registered ' +
		    String(r.workerRegister.workerId));
	});
});

sock.on('error', (e) => {
	console.error('futured: ' + e.message);
	process.exit(1);
});
sock.on('close', () => {
	console.log('connection closed');
	process.exit(0);
});
