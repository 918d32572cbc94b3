#!/usr/bin/env python3
"""A RadixServe worker written from docs/WIRE_PROTOCOL.md alone: the router <-> worker protocol over one ZeroMQ DEALER
socket, a paged prefix cache reported by page hash, and a stand-in model (`model_step`: the one function to replace with a
real runtime). Python 3.11, standard library + pyzmq and xxhash, one thread. Run with --help for the flags."""
import argparse, heapq, json, math, random, signal, struct, sys, time
from pathlib import Path
from types import SimpleNamespace as Page  # a cached page: hash, parent, namespace, depth; holders (refs), LRU clock (used)
from xxhash import xxh64_intdigest as xxh64  # the standard 64-bit xxHash: xxh64(data, seed)
try: import zmq
except ImportError: zmq = None  # the codec and the hashes work without it (check_vectors.py uses them)

# ---- Frame codec: a 16-byte header (magic RXSW, version 1, kind, payload length, reserved 0), then the payload; integers
# are little-endian. Each kind is a list of (field, type), so one reader and one writer serve every message.

class WireError(Exception): """A frame that breaks a decoder rule: logged and dropped, never a crash."""
def need(condition, message):
    if not condition: raise WireError(message)
def F(spec):  # 'name:type …' → [(name, type)]; ou64 = opt u64; i32s, u64s = arrays; str, fp, big = string(4096, 256, 65536)
    return [tuple(field.split(':')) for field in spec.split()]

MAX_FRAME, ARRAY, ITEMS, TOPS, BIASES = 64 << 20, 1 << 22, 1 << 20, 64, 1 << 16  # the limits
STRINGS = {'str': 4096, 'fp': 256, 'big': 65536}
SCALARS = {'u8': 'B', 'u16': 'H', 'u32': 'I', 'u64': 'Q', 'i32': 'i', 'f32': 'f', 'f64': 'd', 'bool': 'B'}
CHAIN = F('namespace:u64 parentHash:ou64 pageHashes:u64s')
EVENT = ('union', {1: CHAIN, 2: F('pageHashes:u64s'), 3: []})  # u8 tag: 1 stored, 2 removed, 3 cleared
LOGPROB = F('logprob:f32') + [('top', ('list', TOPS, F('tokenID:i32 logprob:f32')))]  # ('list', limit, item type)
OUTPUT = F('requestID:u64 firstIndex:u32 tokenIDs:i32s') + [('logprobs', ('list', ARRAY, LOGPROB))]
LOAD = 'runningCount waitingCount waitingPrefillTokens freePages evictablePages cachedPages totalPages'.split()
KINDS = {  # router → worker: 0x0202–0x0208; worker → router: 0x0201, 0x0210–0x0217
    0x0201: ('register', F('protocolRevision:u32 workerID:u32 incarnation:u64 modelID:str modelFingerprint:fp pageSize:u32 '
                           'hashSeed:u64 tensorParallelSize:u32 capacityPages:u32 maxModelLength:u32 features:u32')),
    0x0202: ('registered', F('workerID:u32 heartbeatMilliseconds:u32')), 0x0203: ('refused', F('reason:str')),
    0x0204: ('submit', F('requestID:u64 tokenIDs:i32s maxTokens:u32 temperature:f64 topK:i32 topP:f64 minP:f64 seed:ou64 '
                         'frequencyPenalty:f64 presencePenalty:f64 repetitionPenalty:f64 stopTokenIDs:i32s ignoreEOS:bool '
                         'logprobs:ou64 namespace:u64') + [('logitBias', ('list', BIASES, F('tokenID:i32 bias:f32')))]
                + F('minTokens:u32') + [('constraint', ('union', {0: [], 1: [], 2: F('text:big'), 3: F('text:big')}))]
                + F('resumedOutputCount:u32')),  # constraint tag: 0 none, 1 JSON object, 2 JSON Schema, 3 regex
    0x0205: ('abort', F('requestID:u64')), 0x0206: ('flushCache', []), 0x0207: ('snapshotRequest', []),
    0x0208: ('registerAgain', []), 0x0210: ('tokens', [('outputs', ('list', ITEMS, OUTPUT))]),
    0x0211: ('finished', F('requestID:u64 reason:u8 stopTokenID:i32 message:str promptTokens:u32 completionTokens:u32 '
                           'cachedTokens:u32')),
    0x0212: ('failed', F('requestID:u64 code:u16 message:str')),  # 1 malformed, 2 invalid, 3 unavailable, 4 duplicate, 5 internal
    0x0213: ('kvEvents', F('incarnation:u64 sequence:u64') + [('events', ('list', ITEMS, EVENT))]),
    0x0214: ('snapshot', F('incarnation:u64 sequence:u64') + [('chains', ('list', ITEMS, CHAIN))]),
    0x0215: ('heartbeat', F('incarnation:u64 sequence:u64 ' + ' '.join(name + ':u32' for name in LOAD)
                            + ' prefillTokensPerSecond:f64 decodeTokensPerSecond:f64')),
    0x0216: ('draining', F('deadlineMilliseconds:u32')), 0x0217: ('leaving', []),
}

def write(out, kind, value):  # appends `value` of type `kind` (see decode's `field`) to the bytearray `out`
    if isinstance(kind, list):
        for name, sub in kind: write(out, sub, value[name])
    elif kind[0] == 'list':
        out += struct.pack('<I', len(value))
        for item in value: write(out, kind[2], item)
    elif kind[0] == 'union': write(out, [('tag', 'u8')] + kind[1][value['tag']], value)
    elif kind in STRINGS:  # over-long text is cut on a character boundary
        data = value.encode()[:STRINGS[kind]].decode('utf-8', 'ignore').encode()
        out += struct.pack('<I', len(data)) + data
    elif kind in ('i32s', 'u64s'): out += struct.pack(f'<I{len(value)}{"i" if kind == "i32s" else "Q"}', len(value), *value)
    elif kind == 'ou64': out += struct.pack('<B', 0) if value is None else struct.pack('<BQ', 1, value)
    else: out += struct.pack('<' + SCALARS[kind], value)
def encode(name, message):  # the frame of message `name` (see KINDS) with the fields of the dict `message`
    kind, payload = next(k for k, (n, _) in KINDS.items() if n == name), bytearray()
    write(payload, KINDS[kind][1], message)
    return struct.pack('<4sHHII', b'RXSW', 1, kind, len(payload), 0) + bytes(payload)
def decode(frame, limit=MAX_FRAME):  # (name, fields) of a frame, or WireError naming the rule it breaks
    need(len(frame) >= 16, f'a frame of {len(frame)} bytes is shorter than the 16-byte header')
    magic, version, kind, length, reserved = struct.unpack_from('<4sHHII', frame)
    need(magic == b'RXSW', f'wrong magic {bytes(magic)!r}')
    need(reserved == 0, f'reserved word {reserved} is not 0')
    need(version == 1, f'frame version {version} is not supported (this implementation speaks version 1)')
    need(length <= limit, f'payload of {length} bytes is above the {limit}-byte limit')
    need(len(frame) == 16 + length, f'a frame of {len(frame)} bytes announces {16 + length}')
    need(kind in KINDS, f'unknown kind 0x{kind:04x} of {"a known" if kind >> 8 in (1, 2) else "an unknown"} family')
    pos = 16
    def take(fmt):  # unpacks the next field, checking its length against the bytes left before reading it
        nonlocal pos
        size = struct.calcsize('<' + fmt)
        need(size <= len(frame) - pos, f'a field runs past the end of the frame (byte {pos})')
        pos += size
        return struct.unpack_from('<' + fmt, frame, pos - size)
    def count(limit, size):  # an array, list or string count: at most `limit`, and that many items must fit
        need((n := take('I')[0]) <= limit and n * size <= len(frame) - pos, f'count {n} is above {limit} or past the end')
        return n
    def field(kind):  # a value of type `kind`: a type name, ('list', limit, item), ('union', …) or [(name, type)]
        if isinstance(kind, list): return {name: field(sub) for name, sub in kind}
        if kind[0] == 'list': return [field(kind[2]) for _ in range(count(kind[1], 1))]
        if kind[0] == 'union':
            need((tag := take('B')[0]) in kind[1], f'unknown tag {tag}')
            return {'tag': tag, **field(kind[1][tag])}
        if kind in STRINGS:
            try: return take(f'{count(STRINGS[kind], 1)}s')[0].decode('utf-8')
            except UnicodeDecodeError as error: raise WireError(f'invalid UTF-8 in a string: {error}') from None
        if kind in ('i32s', 'u64s'):
            code = 'i' if kind == 'i32s' else 'Q'
            return list(take(f'{count(ARRAY, struct.calcsize(code))}{code}'))
        if kind == 'ou64': return field('u64') if field('bool') else None
        (value,) = take(SCALARS[kind])
        need(kind != 'bool' or value <= 1, f'bool {value} is neither 0 nor 1')
        need(kind[0] != 'f' or math.isfinite(value) or (kind == 'f32' and value == -math.inf),  # a logprob may be -inf
             f'{kind} {value} is not finite')
        return bool(value) if kind == 'bool' else value
    message = field(KINDS[kind][1])
    need(pos == len(frame), f'{len(frame) - pos} bytes left over after the last field')
    if kind == 0x0204:  # submit's consistency rules
        for name, ids in ('stopTokenIDs', message['stopTokenIDs']), ('logitBias', [b['tokenID'] for b in message['logitBias']]):
            need(all(a < b for a, b in zip(ids, ids[1:])), f'{name} tokens not increasing')
        need((message['logprobs'] or 0) <= TOPS, f'logprobs {message["logprobs"]} is above {TOPS}')
        need(all(math.isfinite(b['bias']) for b in message['logitBias']), 'a logitBias is not finite')
        need(message['resumedOutputCount'] == 0 or message['resumedOutputCount'] < len(message['tokenIDs']),
             'resumedOutputCount is not below the token count')
    return KINDS[kind][0], message

# ---- Page hashes (XXH64 chains, from the `xxhash` package) and the model fingerprint (FNV-1a) ---------------------------
def page_hashes(tokens, page_size, seed, namespace, known=()):
    """Hashes of the whole pages of `tokens` (i32 LE): page 0 = XXH64(LE64(namespace) ‖ its tokens, seed), page i =
    XXH64(its tokens, hash of page i-1). The `known` leading hashes are reused."""
    hashes = list(known)
    for i in range(len(hashes), len(tokens) // page_size):
        data = struct.pack(f'<{page_size}i', *tokens[i * page_size:(i + 1) * page_size])
        hashes.append(xxh64(struct.pack('<Q', namespace) + data, seed) if i == 0 else xxh64(data, hashes[-1]))
    return hashes

def model_fingerprint(directory):  # FNV-1a 64 of config.json, then `NAME:DTYPE:[D0, D1];` per tensor by name; hex
    directory, tensors = Path(directory), {}
    index = directory / 'model.safetensors.index.json'
    shards = set(json.loads(index.read_text())['weight_map'].values()) if index.exists() else {'model.safetensors'}
    for name in sorted(shards):
        with open(directory / name, 'rb') as f: tensors.update(json.loads(f.read(struct.unpack('<Q', f.read(8))[0])))
    tensors.pop('__metadata__', None)
    text = ''.join(f'{name}:{tensors[name]["dtype"].lower()}:[{", ".join(map(str, tensors[name]["shape"]))}];'
                   for name in sorted(tensors, key=str.encode))
    h = 0xCBF29CE484222325
    for byte in (directory / 'config.json').read_bytes() + text.encode(): h = (h ^ byte) * 0x100000001B3 & 0xFFFFFFFFFFFFFFFF
    return format(h, 'x')

# ---- THE MODEL STEP: the one function to replace with your runtime -------------------------------------------------------
def model_step(batch, vocab_size, step_ms):
    """One forward step over `batch` (every running request): per request, `vocab_size` raw logits of its last token. A
    request gives `request.tokens()` (prompt + output so far) and `request.new`, the tokens at the end new this step: on
    prefill the uncached part of the prompt (its first `request.cached` tokens have KV in cached pages), else 1. A real runtime
    writes their KV into the request's pages and attends over all of them. This stand-in sleeps `step_ms` and hashes the last
    three tokens: greedy output is a pure function of the tokens so far."""
    time.sleep(step_ms / 1000)
    seeds = [xxh64(struct.pack('<3i', *([0, 0, 0] + request.tokens())[-3:])) for request in batch]
    return [[rng.random() * 8 for _ in range(vocab_size)] for rng in map(random.Random, seeds)]

def sample(request, z, eos):  # logit_bias and min_tokens, then greedy (temperature 0), or temperature, top-k, top-p and
    m, z = request.m, list(z)  # min-p (penalties: left to the runtime)
    for entry in m['logitBias']:
        if 0 <= entry['tokenID'] < len(z): z[entry['tokenID']] += entry['bias']
    if len(request.out) < m['minTokens']:  # EOS and stop tokens masked until min_tokens were generated
        for t in set(m['stopTokenIDs']) | (set() if m['ignoreEOS'] else eos):
            if 0 <= t < len(z): z[t] = -math.inf
    if m['temperature'] == 0: return max(range(len(z)), key=z.__getitem__)
    order = sorted(range(len(z)), key=z.__getitem__, reverse=True)[:m['topK'] if m['topK'] > 0 else None]
    weights = [math.exp((z[t] - z[order[0]]) / m['temperature']) for t in order]
    total, kept, mass = sum(weights), 0, 0.0
    while kept < len(order) and mass < m['topP'] and weights[kept] >= m['minP'] * weights[0]:
        mass, kept = mass + weights[kept] / total, kept + 1
    return request.rng.choices(order[:kept], weights[:kept])[0]
def logprobs(logits, token, top):  # log-probabilities under the raw logits of `token` and of the `top` likeliest tokens
    peak = max(logits)
    lse = peak + math.log(sum(math.exp(x - peak) for x in logits))
    best = heapq.nlargest(top, range(len(logits)), key=logits.__getitem__)
    return {'logprob': min(0.0, logits[token] - lse), 'top': [{'tokenID': t, 'logprob': min(0.0, logits[t] - lse)} for t in best]}

# ---- Requests and the paged prefix cache ----------------------------------------------------------------------------------
class Request:
    def __init__(self, m):
        self.m, self.id, self.prompt, self.ns, self.hashes = m, m['requestID'], m['tokenIDs'], m['namespace'], []
        self.out, self.held, self.private, self.cached, self.new, self.prefilled = [], [], 0, 0, 0, False
        self.rng = random.Random(m['seed'] if m['seed'] is not None else random.getrandbits(64))
    def tokens(self): return self.prompt + self.out

class PrefixCache:
    """`capacity` pages: cached ones by hash (held by running requests, or evictable), and `private` ones requests reserve."""
    def __init__(self, capacity):
        self.capacity, self.pages, self.private, self.clock, self.events = capacity, {}, 0, 0, []
    def free(self): return self.capacity - self.private - len(self.pages)
    def match(self, hashes): return next((i for i, h in enumerate(hashes) if h not in self.pages), len(hashes))
    def hold(self, request, page_hash):
        page, self.clock = self.pages[page_hash], self.clock + 1
        page.refs, page.used = page.refs + 1, self.clock
        request.held.append(page_hash)
    def release(self, request):
        self.clock += 1
        for page in map(self.pages.get, request.held): page.refs, page.used = page.refs - 1, self.clock
        self.private, request.held, request.private = self.private - request.private, [], 0
    def insert(self, request, hashes):  # moves the pages `hashes` of the request into the cache; `stored` names the new ones
        new = []
        for i in range(len(request.held), len(hashes)):  # new pages follow the cached ones: parents stay cached
            if hashes[i] not in self.pages:
                self.pages[hashes[i]] = Page(hash=hashes[i], parent=hashes[i - 1] if i else None, namespace=request.ns,
                                             depth=i, refs=0, used=0)
                new.append(hashes[i])
            request.private, self.private = request.private - 1, self.private - 1  # a cache page now (or a copy)
            self.hold(request, hashes[i])
        if new: self.events.append({'tag': 1, 'namespace': request.ns, 'parentHash': self.pages[new[0]].parent,
                                    'pageHashes': new})
    def evict(self, wanted):  # evicts least recently used unheld leaves until `wanted` pages are free; `removed` per run
        runs, parent = [], None
        while self.free() < wanted:
            parents = {p.parent for p in self.pages.values()}
            page = min((p for p in self.pages.values() if not p.refs and p.hash not in parents),
                       key=lambda p: (p.used, -p.depth), default=None)
            if page is None: break
            del self.pages[page.hash]
            if runs and parent == page.hash: runs[-1].insert(0, page.hash)  # a run grows to the root: deepest stays last
            else: runs.append([page.hash])
            parent = page.parent
        self.events += [{'tag': 2, 'pageHashes': run} for run in runs]
    def flush(self):
        if any(page.refs for page in self.pages.values()): return self.evict(math.inf)  # held pages stay
        self.pages.clear()
        self.events.append({'tag': 3})
    def snapshot(self):  # one chain per page, parents before children
        return [{'namespace': p.namespace, 'parentHash': p.parent, 'pageHashes': [p.hash]}
                for p in sorted(self.pages.values(), key=lambda p: p.depth)]

def invalid(m, vocab_size, max_len):  # the engine's admission check: a message naming the first bad parameter, or None
    n, bad, inf = len(m['tokenIDs']), next((t for t in m['tokenIDs'] if not 0 <= t < vocab_size), None), math.inf
    ranges = [('max_tokens', 'maxTokens', 1, inf), ('temperature', 'temperature', 0, inf), ('top_k', 'topK', -1, inf),
              ('min_p', 'minP', 0, 1), ('frequency_penalty', 'frequencyPenalty', -2, 2),
              ('presence_penalty', 'presencePenalty', -2, 2), ('min_tokens', 'minTokens', 0, m['maxTokens'])]
    for name, value, ok, rule in [(name, m[key], low <= m[key] <= high, f'must be in [{low}, {high}]')
                                  for name, key, low, high in ranges] + [
            ('top_p', m['topP'], 0 < m['topP'] <= 1, 'must be in (0, 1]'),
            ('repetition_penalty', m['repetitionPenalty'], m['repetitionPenalty'] > 0, 'must be above 0'),
            ('prompt', f'of {n} tokens', n > 0, 'must hold at least 1 token'),
            ('max_tokens', m['maxTokens'], n + m['maxTokens'] <= max_len, f'plus the prompt must fit the max model length {max_len}'),
            ('prompt token id', bad, bad is None, f'is outside the vocabulary [0, {vocab_size})'),
            ('logit_bias', m['logitBias'], all(-100 <= b['bias'] <= 100 for b in m['logitBias']), 'must be in [-100, 100]'),
            ('response_format', 'with a constraint', m['constraint']['tag'] == 0, 'is not supported by this worker')]:
        if not ok: return f'invalid {name} {value}: {rule}'
    return None

# ---- The worker: socket, registration, heartbeats, requests, steps, drain -------------------------------------------------
class Worker:
    def __init__(self, args):
        self.args, self.P, model = args, args.page_size, Path(args.model)
        configs = [json.loads((model / f).read_text()) for f in ('config.json', 'generation_config.json') if (model / f).exists()]
        eos = [c.get('eos_token_id') for c in configs]  # the EOS ids of both files: an id, a list or none
        self.eos = {t for e in eos for t in (e if isinstance(e, list) else [e]) if t is not None}
        self.vocab_size, self.fingerprint = configs[0]['vocab_size'], model_fingerprint(model)
        self.incarnation = random.getrandbits(64)  # a new process: a new incarnation with an empty cache
        self.cache, self.live, self.waiting, self.running, self.finished = PrefixCache(args.pages), {}, [], [], []
        self.sequence, self.snapshot_wanted, self.rates, self.signals = 0, False, [0.0, 0.0], 0  # rates: prefill, decode tok/s
        self.registered, self.heartbeat_s, self.next_heartbeat, self.next_register = False, 1.0, 0.0, 0.0
        self.register_deadline, self.drain_deadline = time.monotonic() + 30 if args.router else None, None  # --listen: forever
        self.registration = dict(
            protocolRevision=3, workerID=args.worker_id, incarnation=self.incarnation, modelID=args.model,
            modelFingerprint=self.fingerprint, pageSize=self.P, hashSeed=args.hash_seed, tensorParallelSize=1,
            capacityPages=args.pages, maxModelLength=args.max_model_len, features=0)  # bit 0: deterministic
        self.socket = zmq.Context.instance().socket(zmq.DEALER)
        self.socket.linger, self.socket.sndhwm = 2000, 0  # at exit, the last messages still go out
        if args.router: self.socket.routing_id = struct.pack('<I', args.worker_id)  # the worker id, 4 bytes LE
        (self.socket.connect if args.router else self.socket.bind)(args.router or args.listen)
    def log(self, *text): print(f'python-worker {self.args.worker_id}:', *text, file=sys.stderr, flush=True)
    def send(self, name, message=None):
        try: self.socket.send(encode(name, message or {}), zmq.NOBLOCK)
        except zmq.Again:  # no router connected (a listening worker before a router connects)
            if name not in ('register', 'heartbeat'): self.log(f'{name} not sent: no router connected')
    def finish(self, r, reason, stop=-1):  # caches the pages it computed, frees the rest, queues `finished`
        if r.prefilled: self.cache.insert(r, self.chain(r, (len(r.prompt) + len(r.out) - 1) // self.P))  # KV: all but the last
        self.cache.release(r)
        (self.running if r in self.running else self.waiting).remove(r)
        del self.live[r.id]
        self.finished.append({'requestID': r.id, 'reason': reason, 'stopTokenID': stop, 'message': '',
                              'promptTokens': len(r.prompt), 'completionTokens': len(r.out), 'cachedTokens': r.cached})
    def handle(self, frame):
        try:
            name, m = decode(frame)
        except WireError as error:
            self.log('dropped a malformed frame:', error)
            rid = struct.unpack_from('<Q', frame, 16)[0] if len(frame) >= 24 else None
            if frame[:4] == b'RXSW' and frame[6:8] == b'\x04\x02' and rid not in self.live:  # submit of no live id
                self.send('failed', {'requestID': rid, 'code': 1, 'message': f'malformed message: {error}'})
            return
        rid = m.get('requestID')
        if name == 'registered':
            if not self.registered: self.log(f'registered (incarnation {self.incarnation:#x})')  # queued retries: answered too
            self.registered, self.register_deadline, self.next_heartbeat = True, None, 0.0  # heartbeat at once
            self.heartbeat_s = m['heartbeatMilliseconds'] / 1000 or self.heartbeat_s
        elif name == 'refused': self.exit(1, f'refused by the router: {m["reason"]}')
        elif name == 'registerAgain': self.registered, self.next_register = False, 0.0  # same incarnation, cache intact
        elif name == 'submit' and (self.drain_deadline is not None or rid in self.live):
            code, text = (3, 'worker is shutting down') if rid not in self.live else (4, f'duplicate request id {rid}')
            self.send('failed', {'requestID': rid, 'code': code, 'message': text})
        elif name == 'submit' and (error := invalid(m, self.vocab_size, self.args.max_model_len)):
            self.finished.append({'requestID': rid, 'reason': 3, 'stopTokenID': -1, 'message': error,
                                  'promptTokens': len(m['tokenIDs']), 'completionTokens': 0, 'cachedTokens': 0})
        elif name == 'submit': self.waiting.append(self.live.setdefault(rid, Request(m)))
        elif name == 'abort':  # unknown or finished ids are ignored
            if rid in self.live: self.finish(self.live[rid], 2)
        elif name == 'flushCache': self.cache.flush()
        elif name == 'snapshotRequest': self.snapshot_wanted = True
        else: self.log(f'ignored {name}: not a router → worker message')
    def chain(self, r, pages):  # hashes of r's first `pages` whole pages (prompt, then output); each page is hashed once
        if len(r.hashes) < pages: r.hashes = page_hashes(r.tokens()[:pages * self.P], self.P, self.args.hash_seed, r.ns, r.hashes)
        return r.hashes[:pages]
    def usable(self, r):  # cached prompt pages a request can use: whole pages, never the one with the last prompt token
        return min(self.cache.match(self.chain(r, len(r.prompt) // self.P)), (len(r.prompt) - 1) // self.P)
    def admit(self, r):  # holds the request's cached prefix; reserves pages for the rest of its longest possible output
        usable = self.usable(r)
        wanted = -(-min(len(r.prompt) + r.m['maxTokens'], self.args.max_model_len) // self.P) - usable
        for page_hash in self.chain(r, usable): self.cache.hold(r, page_hash)
        if self.cache.free() < wanted: self.cache.evict(wanted)
        if self.cache.free() < wanted: return self.cache.release(r)  # not yet: it stays queued
        r.private, r.cached, r.new = wanted, usable * self.P, len(r.prompt) - usable * self.P
        self.cache.private += wanted
        return True
    def step(self):  # one engine step: admit queued requests (oldest first), run the model once, sample one token each
        while self.waiting and self.admit(self.waiting[0]): self.running.append(self.waiting.pop(0))
        if not self.running: return []
        batch, started = list(self.running), time.monotonic()
        rows = model_step(batch, self.vocab_size, self.args.step_ms)
        elapsed = max(time.monotonic() - started, 1e-6)
        for i, count in enumerate((sum(r.new for r in batch if not r.prefilled), sum(r.prefilled for r in batch))):  # tokens/s
            if count: self.rates[i] = 0.8 * self.rates[i] + 0.2 * count / elapsed if self.rates[i] else count / elapsed
        entries = []
        for r, logits in zip(batch, rows):
            first, r.prefilled, r.new = not r.prefilled, True, 1
            token = sample(r, logits, self.eos)
            r.out.append(token)
            entries.append({'requestID': r.id, 'firstIndex': len(r.out) - 1, 'tokenIDs': [token], 'logprobs':
                            [] if r.m['logprobs'] is None else [logprobs(logits, token, r.m['logprobs'])]})
            if token in r.m['stopTokenIDs'] or (not r.m['ignoreEOS'] and token in self.eos): self.finish(r, 0, token)
            elif len(r.out) >= r.m['maxTokens'] or len(r.prompt) + len(r.out) >= self.args.max_model_len: self.finish(r, 1)
            elif first: self.cache.insert(r, self.chain(r, len(r.prompt) // self.P))  # prefill done, still running: share
        return entries
    def heartbeat(self):  # the load as of the end of the last step; counts clamped to u32
        c, waiting = self.cache, sum(len(r.prompt) - self.usable(r) * self.P for r in self.waiting)
        evictable = sum(not p.refs for p in c.pages.values())
        load = [len(self.running), len(self.waiting), waiting, c.free(), evictable, len(c.pages), c.capacity]
        return dict(zip(LOAD, (min(v, 0xFFFFFFFF) for v in load)), incarnation=self.incarnation, sequence=self.sequence,
                    prefillTokensPerSecond=self.rates[0], decodeTokensPerSecond=self.rates[1])
    def exit(self, status, why):
        self.log(why)
        zmq.Context.instance().destroy(linger=2000)  # waits up to 2 s for the last messages to reach the router
        sys.exit(status)
    def run(self):
        for number in (signal.SIGTERM, signal.SIGINT): signal.signal(number, self.on_signal)
        while True:
            now = time.monotonic()
            timeout = 0 if self.live else max(0.0, min(self.next_heartbeat if self.registered else self.next_register,
                                                       now + 0.1) - now) * 1000
            while self.socket.poll(timeout):  # every inbound message before the step
                frames, timeout = self.socket.recv_multipart(), 0
                self.handle(frames[0]) if len(frames) == 1 else self.log(f'dropped a message of {len(frames)} frames')
            entries = self.step()
            if entries: self.send('tokens', {'outputs': entries})  # the step's tokens, then finished, then cache events
            while self.finished: self.send('finished', self.finished.pop(0))
            if self.cache.events:
                self.sequence += 1
                self.send('kvEvents', {'incarnation': self.incarnation, 'sequence': self.sequence, 'events': self.cache.events})
                self.cache.events = []
            if self.snapshot_wanted:  # after the pending batch: the state as of `sequence`
                self.snapshot_wanted = False
                self.send('snapshot', {'incarnation': self.incarnation, 'sequence': self.sequence, 'chains': self.cache.snapshot()})
            self.timers(time.monotonic())
    def on_signal(self, *_): self.signals += 1
    def timers(self, now):  # heartbeats, register retries, and the drain on SIGTERM/SIGINT
        if self.registered and now >= self.next_heartbeat:
            self.send('heartbeat', self.heartbeat())
            self.next_heartbeat = now + self.heartbeat_s
        if not self.registered and now >= self.next_register:
            if self.register_deadline is not None and now > self.register_deadline:
                self.exit(1, 'no answer from the router within 30 s; giving up')
            self.send('register', self.registration)
            self.next_register = now + 0.5
        if self.signals and self.drain_deadline is None:  # always `draining` first, even when idle
            if not self.registered: self.exit(0, 'stopped before registering')
            self.drain_deadline = now + self.args.drain_timeout
            self.send('draining', {'deadlineMilliseconds': min(int(self.args.drain_timeout * 1000), 0xFFFFFFFF)})
            self.log(f'draining: {len(self.live)} requests to finish within {self.args.drain_timeout} s')
        if self.signals and (self.signals > 1 or not self.live or now >= self.drain_deadline):
            self.send('leaving')  # a second signal skips the rest of the drain
            self.exit(0, f'leaving with {len(self.live)} unfinished requests')

def main():
    parser = argparse.ArgumentParser(description='A RadixServe worker written from docs/WIRE_PROTOCOL.md.')
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument('--router', help='router endpoint to connect to (tcp:// or ipc://)')
    where.add_argument('--listen', help='endpoint to bind; a router connects to it (POST /workers)')
    parser.add_argument('--model', required=True, help='checkpoint directory (config.json, safetensors header)')
    for flag, kind, default, text in [
            ('--worker-id', int, 1, 'worker id'), ('--page-size', int, 16, 'tokens per KV page'),
            ('--hash-seed', lambda s: int(s, 0), 0, 'seed of the page-hash chains'), ('--pages', int, 512, 'KV pages'),
            ('--max-model-len', int, 2048, 'most prompt + output tokens'), ('--step-ms', float, 2.0, 'simulated step time'),
            ('--drain-timeout', float, 30.0, 'seconds to finish running requests on SIGTERM')]:
        parser.add_argument(flag, type=kind, default=default, help=f'{text} (default: {default})')
    args = parser.parse_args()
    if zmq is None: sys.exit('pyzmq is missing: pip install -r examples/python-worker/requirements.txt (or scripts/setup.sh)')
    if args.pages * args.page_size < args.max_model_len:
        sys.exit(f'--pages {args.pages} × --page-size {args.page_size} cannot hold --max-model-len {args.max_model_len}')
    Worker(args).run()
if __name__ == '__main__': main()
