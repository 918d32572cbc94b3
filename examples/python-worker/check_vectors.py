#!/usr/bin/env python3
"""Checks worker.py's codec and hashes against the repository's golden data, using only docs/WIRE_PROTOCOL.md:

- every docs/wire-vectors/*.hex frame decodes to the fields its comment lists and re-encodes byte for byte
  (the leader ⇄ rank family 0x01xx too: its four kinds are added to the codec's table here);
- frames that break a decoder rule are rejected with WireError;
- docs/wire-vectors/page-hash-chains.json, XXH64 of the empty input, and the demo model's fingerprint.

Exits 1 on any mismatch. Needs xxhash, not pyzmq."""
import json, math, struct, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import worker  # noqa: E402
from worker import F, WireError, decode, encode, model_fingerprint, page_hashes, xxh64  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / 'docs' / 'wire-vectors'

# The leader ⇄ rank family, for its golden frames (a worker never sees it).
worker.KINDS.update({
    0x0101: ('rank-hello', F('rank:u32 tensorParallelSize:u32 maxStepTokens:u32 maxLogitRows:u32 modelFingerprint:fp '
                             'modelName:str')),
    0x0102: ('rank-step', F('sequence:u64 pageCount:u32 pageSize:u32 tokenIDs:i32s positions:i32s slotMapping:i32s '
                            'queryStarts:i32s contextLengths:i32s pageTableStarts:i32s pageIDs:i32s logitRows:i32s')),
    0x0103: ('rank-heartbeat', F('sequence:u64')),
    0x0104: ('rank-shutdown', F('reason:str')),
})

H0, H1 = 0x8752c74bc787fd40, 0xb5c80a0ef58bfcdd  # page hashes of tokens 1…8, P = 4 (the hash vectors)
EXPECTED = {  # the fields each file's comment lists
    '0x0101-rank-hello': {'rank': 1, 'tensorParallelSize': 2, 'maxStepTokens': 2048, 'maxLogitRows': 256,
                          'modelFingerprint': 'd6eba23b1b75d4e6', 'modelName': 'models/demo'},
    '0x0102-rank-step': {'sequence': 42, 'pageCount': 8, 'pageSize': 4, 'tokenIDs': [5, 6, 7, 9],
                         'positions': [0, 1, 2, 7], 'slotMapping': [0, 1, 2, 15], 'queryStarts': [0, 3, 4],
                         'contextLengths': [3, 8], 'pageTableStarts': [0, 1, 3], 'pageIDs': [0, 2, 3],
                         'logitRows': [2, 3]},
    '0x0103-rank-heartbeat': {'sequence': 0x0102030405060708},
    '0x0104-rank-shutdown': {'reason': 'done'},
    '0x0201-register': {'protocolRevision': 3, 'workerID': 7, 'incarnation': 0x0123456789abcdef, 'modelID': 'demo',
                        'modelFingerprint': 'd6eba23b1b75d4e6', 'pageSize': 16, 'hashSeed': 0,
                        'tensorParallelSize': 1, 'capacityPages': 4096, 'maxModelLength': 2048, 'features': 1},
    '0x0202-registered': {'workerID': 7, 'heartbeatMilliseconds': 500},
    '0x0203-refused': {'reason': 'page size 32 ≠ router\'s 16'},
    '0x0204-submit-defaults': {'requestID': 9, 'tokenIDs': [1, 2, 3], 'maxTokens': 16, 'temperature': 0.0, 'topK': 0,
                               'topP': 1.0, 'minP': 0.0, 'seed': None, 'frequencyPenalty': 0.0,
                               'presencePenalty': 0.0, 'repetitionPenalty': 1.0, 'stopTokenIDs': [],
                               'ignoreEOS': False, 'logprobs': None, 'namespace': 0, 'logitBias': [], 'minTokens': 0,
                               'constraint': {'tag': 0}, 'resumedOutputCount': 0},
    '0x0204-submit': {'requestID': 0x0000000100000002, 'tokenIDs': [1, 396, 300, 40000], 'maxTokens': 32,
                      'temperature': 0.5, 'topK': 40, 'topP': 0.875, 'minP': 0.0625, 'seed': 42,
                      'frequencyPenalty': 0.25, 'presencePenalty': -0.5, 'repetitionPenalty': 1.5,
                      'stopTokenIDs': [2, 7], 'ignoreEOS': True, 'logprobs': 5, 'namespace': 0xfeed,
                      'logitBias': [{'tokenID': 7, 'bias': -100.0}, {'tokenID': 396, 'bias': 2.5}], 'minTokens': 4,
                      'constraint': {'tag': 3, 'text': '[a-z]+( [a-z]+)*'}, 'resumedOutputCount': 1},
    '0x0204-submit-json-schema': {'requestID': 10, 'tokenIDs': [1], 'maxTokens': 64, 'temperature': 1.0, 'topK': 0,
                                  'topP': 1.0, 'minP': 0.0, 'seed': None, 'frequencyPenalty': 0.0,
                                  'presencePenalty': 0.0, 'repetitionPenalty': 1.0, 'stopTokenIDs': [],
                                  'ignoreEOS': False, 'logprobs': None, 'namespace': 0, 'logitBias': [], 'minTokens': 0,
                                  'constraint': {'tag': 2, 'text': '{"type":"object","properties":{"name":{"type":"string"}},'
                                                                   '"required":["name"]}'}, 'resumedOutputCount': 0},
    '0x0204-submit-json-object': {'requestID': 11, 'tokenIDs': [1], 'maxTokens': 64, 'temperature': 1.0, 'topK': 0,
                                  'topP': 1.0, 'minP': 0.0, 'seed': None, 'frequencyPenalty': 0.0,
                                  'presencePenalty': 0.0, 'repetitionPenalty': 1.0, 'stopTokenIDs': [],
                                  'ignoreEOS': False, 'logprobs': None, 'namespace': 0, 'logitBias': [], 'minTokens': 0,
                                  'constraint': {'tag': 1}, 'resumedOutputCount': 0},
    '0x0205-abort': {'requestID': 0x0102030405060708},
    '0x0206-flush-cache': {}, '0x0207-snapshot-request': {}, '0x0208-register-again': {},
    '0x0210-tokens': {'outputs': [
        {'requestID': 1, 'firstIndex': 0, 'tokenIDs': [5], 'logprobs': []},
        {'requestID': 2, 'firstIndex': 9, 'tokenIDs': [6, 7], 'logprobs': [
            {'logprob': -0.25, 'top': [{'tokenID': 6, 'logprob': -0.25}, {'tokenID': 8, 'logprob': -2.0}]},
            {'logprob': -math.inf, 'top': []}]}]},
    '0x0211-finished-error': {'requestID': 4, 'reason': 3, 'stopTokenID': -1, 'message': 'invalid top_p 0.0: must be in (0, 1]',
                              'promptTokens': 9, 'completionTokens': 0, 'cachedTokens': 0},
    '0x0211-finished-stop': {'requestID': 1, 'reason': 0, 'stopTokenID': 2, 'message': '', 'promptTokens': 40,
                             'completionTokens': 3, 'cachedTokens': 32},
    '0x0212-failed': {'requestID': 5, 'code': 3, 'message': 'worker is shutting down'},
    '0x0213-kv-events': {'incarnation': 11, 'sequence': 1, 'events': [
        {'tag': 1, 'namespace': 0, 'parentHash': None, 'pageHashes': [H0, H1]},
        {'tag': 1, 'namespace': 7, 'parentHash': 0x648088a3f5e04c22, 'pageHashes': [0x1d3ada946bea56d1]},
        {'tag': 2, 'pageHashes': [H1]}, {'tag': 3}]},
    '0x0214-snapshot': {'incarnation': 11, 'sequence': 9, 'chains': [
        {'namespace': 0, 'parentHash': None, 'pageHashes': [H0]},
        {'namespace': 0, 'parentHash': H0, 'pageHashes': [H1]}]},
    '0x0215-heartbeat': {'incarnation': 11, 'sequence': 9, 'runningCount': 3, 'waitingCount': 4,
                         'waitingPrefillTokens': 100, 'freePages': 10, 'evictablePages': 20, 'cachedPages': 30,
                         'totalPages': 64, 'prefillTokensPerSecond': 1234.5, 'decodeTokensPerSecond': 67.5},
    '0x0216-draining': {'deadlineMilliseconds': 30000},
    '0x0217-leaving': {},
}

failures = []


def check(condition, what):
    print(('ok    ' if condition else 'FAIL  ') + what)
    if not condition:
        failures.append(what)


def frame(path):  # the hex bytes of a vector file, comment lines left out
    return bytes.fromhex(' '.join(line for line in path.read_text().splitlines() if not line.startswith('#')))


# 1. Golden frames: decode, compare, re-encode.
files = sorted(VECTORS.glob('*.hex'))
check(sorted(p.stem for p in files) == sorted(EXPECTED), f'{len(files)} vector files, one per listed message')
for path in files:
    data = frame(path)
    try:
        name, fields = decode(data)
    except WireError as error:
        check(False, f'{path.name}: decodes ({error})')
        continue
    check(int(path.stem[:6], 16) == struct.unpack_from('<H', data, 6)[0], f'{path.name}: kind matches the name')
    check(fields == EXPECTED.get(path.stem), f'{path.name}: {name} has the listed fields')
    check(encode(name, fields) == data, f'{path.name}: re-encodes byte for byte')

# 2. Decoder rules: each broken frame is rejected (never a crash, never accepted).
submit = frame(VECTORS / '0x0204-submit.hex')
T = 49
abort = frame(VECTORS / '0x0205-abort.hex')
refused = frame(VECTORS / '0x0203-refused.hex')
header = lambda kind, payload, version=1, reserved=0: struct.pack(  # noqa: E731
    '<4sHHII', b'RXSW', version, kind, len(payload), reserved) + payload
broken = {  # what → (frame, a word of the error naming the rule); None: the announced length against a smaller limit
    'shorter than a header': (abort[:15], 'shorter'),
    'wrong magic': (b'RXSX' + abort[4:], 'magic'),
    'version 2': (header(0x0205, abort[16:], version=2), 'version 2'),
    'non-zero reserved word': (header(0x0205, abort[16:], reserved=1), 'reserved'),
    'truncated payload': (abort[:-1], 'announces'),
    'trailing bytes': (abort + b'\0', 'announces'),
    'unknown kind of a known family': (header(0x0209, b''), 'unknown kind'),
    'unknown family': (header(0x0305, abort[16:]), 'unknown kind'),
    'bytes left over after the last field': (header(0x0205, abort[16:] + b'\0'), 'left over'),
    'field past the end': (header(0x0205, abort[16:20]), 'past the end'),
    'array count past the end': (header(0x0204, submit[16:24] + struct.pack('<I', 1000) + submit[28:]), 'count 1000'),
    'string count above 4096': (header(0x0203, struct.pack('<I', 5000) + b'x' * 5000), 'count 5000'),
    'invalid UTF-8': (header(0x0203, struct.pack('<I', 2) + b'\xc3\x28'), 'UTF-8'),
    # submit's payload ends: stopTokenIDs [2, 7] (12 bytes), ignoreEOS, logprobs (flag + u64), namespace (u64), then the
    # T = 49 bytes of revision 2: logitBias (count + 2 × 8), minTokens, constraint (tag 3 + count + 16 bytes), resumed
    'bool of 2': (header(0x0204, submit[16:-18 - T] + b'\x02' + submit[-17 - T:]), 'bool'),
    'NaN temperature': (header(0x0204, submit[16:48] + struct.pack('<d', math.nan) + submit[56:]), 'finite'),
    'stop tokens not increasing': (header(0x0204, submit[16:-26 - T] + struct.pack('<2i', 7, 2) + submit[-18 - T:]),
                                   'stopTokenIDs'),
    'logprobs above 64': (header(0x0204, submit[16:-16 - T] + struct.pack('<Q', 65) + submit[-8 - T:]), 'logprobs 65'),
    'logit bias not increasing': (header(0x0204, submit[16:-49] + struct.pack('<I', 2) + struct.pack('<if', 396, 2.5) + struct.pack('<if', 7, -100.0) + submit[-29:]),
                                  'logitBias'),
    'unknown constraint tag': (header(0x0204, submit[16:-25] + b'\x07' + submit[-24:]), 'tag 7'),
    'payload above the frame limit': (None, 'limit'),
}
for what, (data, rule) in broken.items():
    try:
        decode(refused, limit=16) if data is None else decode(data)
        check(False, f'decoder rejects: {what} (it accepted the frame)')
    except WireError as error:
        check(rule in str(error), f'decoder rejects: {what} ({error})')
check(decode(header(0x0205, abort[16:]))[1]['requestID'] == 0x0102030405060708, 'decoder accepts a rebuilt abort')

# 3. Page hashes and the model fingerprint.
check(xxh64(b'') == 0xef46db3751d8e999, 'XXH64(empty, seed 0) = 0xef46db3751d8e999')
for vector in json.loads((VECTORS / 'page-hash-chains.json').read_text())['vectors']:
    hashes = page_hashes(vector['tokens'], vector['page_size'], int(vector['hash_seed'], 16),
                         int(vector['namespace'], 16))
    check(hashes == [int(h, 16) for h in vector['page_hashes']],
          f'page hashes P={vector["page_size"]} seed={vector["hash_seed"]} namespace={vector["namespace"]}')
fingerprint = model_fingerprint(ROOT / 'models' / 'demo')
check(fingerprint == 'd6eba23b1b75d4e6', f'fingerprint of models/demo is d6eba23b1b75d4e6 (got {fingerprint})')

print(f'{len(failures)} failures' if failures else 'all checks passed')
sys.exit(1 if failures else 0)
