"""Where the lost events are in each nats-server's copy of the log (bench/cluster-faults/run
runs it when the checker reports lost events): reads the message blocks of stream STREAM
in each server's store directory (nats-server 2.9 file store: records of
rl:u32 seq:u64 ts:i64 slen:u16 subject [hlen:u32 headers] payload hash:8, little-endian;
purged and deleted messages stay in the blocks until compaction, so this shows what each
copy ever held), and prints one JSON object: per server the number of records and the
highest sequence, and per lost event (first 20) the sequence(s) and subject each copy
holds it at. The same event at different sequences on different servers means the copies
diverged; an event in no copy means the log never kept it.

Usage: stream_copies.py STREAM CHECK_JSON STORE_DIR...
"""
import glob, json, struct, sys


def records(store, stream):
    data = b"".join(open(f, "rb").read() for f in sorted(glob.glob(f"{store}/jetstream/$G/streams/{stream}/msgs/*.blk")))
    off, out = 0, {}
    while off + 22 <= len(data):
        rl, seq, _ts, sl = struct.unpack_from("<IQqH", data, off)
        rl &= 0x7FFFFFFF
        if rl < 22 or off + rl > len(data):
            break
        subject = data[off + 22:off + 22 + sl].decode(errors="replace")
        out.setdefault(seq & ((1 << 63) - 1), []).append((subject, data[off + 22 + sl:off + rl - 8]))
        off += rl
    return out


def main():
    stream, check, stores = sys.argv[1], sys.argv[2], sys.argv[3:]
    lost = json.load(open(check)).get("events", {}).get("lost_examples", [])[:20]
    copies = {s: records(s, stream) for s in stores}
    result = {"servers": {s: {"records": len(r), "max_seq": max(r) if r else 0} for s, r in copies.items()},
              "lost": {}}
    diverged = False
    for e in lost:
        where = {}
        for s, r in copies.items():
            where[s] = sorted({(seq, subj) for seq, lst in r.items() for subj, body in lst
                               if e.encode() in body and subj.split(".")[-2:-1] == ["ev"]})
        seqs = {tuple(x[0] for x in w) for w in where.values()}
        diverged = diverged or len(seqs) > 1
        result["lost"][e] = {s: [f"{seq} {subj}" for seq, subj in w] for s, w in where.items()}
    result["copies_disagree"] = diverged
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
