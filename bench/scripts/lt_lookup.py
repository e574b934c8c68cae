#!/usr/bin/python3
"""One timed libtorrent (python3-libtorrent) BEP 44 mutable get against a loopback DHT, for the Mainline benchmark.

Reuses the read-only, loopback-only session construction of the shared peer kit (../shared/peers/lt_testnet.py:
full settings pack, settings read back and checked, 127.0.0.0/8 only) and times inside Python, so process start,
imports and the join are not part of the lookup time:

  join_ms   add_dht_node(each bootstrap node) -> routing table >= --min-nodes (not part of the lookup)
  first_ms  dht_get_mutable_item() -> first dht_mutable_item_alert with a valid item (seq >= --seq)
  done_ms   dht_get_mutable_item() -> the authoritative alert (libtorrent's end of lookup)

Prints one JSON line. Bounded: --settle and --timeout seconds. Run with /usr/bin/python3.
"""
import argparse
import json
import sys
import time

sys.dont_write_bytecode = True  # the kit directory is read-only
KIT = "/work/shared/peers"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pubkey", required=True)
    p.add_argument("--bootstrap", required=True, help="IP:PORT[,IP:PORT...] on loopback")
    p.add_argument("--seq", type=int, default=None, help="minimum seq that counts as the value")
    p.add_argument("--min-nodes", type=int, default=8)
    p.add_argument("--settle", type=float, default=15.0)
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--kit", default=KIT)
    p.add_argument("--log-dht", action="store_true", help="libtorrent's DHT log on stderr (debugging)")
    a = p.parse_args()
    sys.path.insert(0, a.kit)
    import lt_testnet as kit  # noqa: E402  (checks loopback, builds the safe settings pack)
    lt = kit.lt

    kargs = kit.build_parser().parse_args(
        ["get-mutable", "--pubkey", a.pubkey, "--bootstrap", a.bootstrap, "--min-nodes", str(a.min_nodes)]
        + (["--log-dht"] if a.log_dht else []))
    kargs.read_only = True  # as the kit's client modes: BEP 43 read-only
    boot = kit.parse_bootstrap(kargs.bootstrap)  # refuses non-loopback
    pk = bytes.fromhex(a.pubkey)

    t0 = time.perf_counter()
    nodes = kit.start_nodes(kargs, 1, 0)
    via = nodes[0]
    kit.wire(nodes, boot)
    size = 0
    while time.perf_counter() - t0 < a.settle:
        size = via.routing_table_size()  # add_dht_node pings each bootstrap node; they enter once they answer
        if size >= a.min_nodes:
            break
        via.ses.wait_for_alert(20)
    join_ms = (time.perf_counter() - t0) * 1000.0
    if size < a.min_nodes:
        print(json.dumps({"ok": False, "error": "join", "port": via.port, "join_ms": join_ms, "table": size}))
        kit._finish(nodes)
        return 4

    first_ms = done_ms = None
    first_seq = best_seq = None
    items = 0
    t1 = time.perf_counter()
    via.ses.dht_get_mutable_item(pk, b"")
    while time.perf_counter() - t1 < a.timeout and done_ms is None:
        via.ses.wait_for_alert(50)
        now = time.perf_counter()
        for al in via.take(lambda x: isinstance(x, lt.dht_mutable_item_alert)):
            try:
                it = al.item
            except RuntimeError:  # nothing usable (e.g. the end of a lookup that found no item): as the kit does
                if al.authoritative:
                    done_ms = (now - t1) * 1000.0
                continue
            if bytes(it["key"]) != pk:
                continue
            valid = bytes(it["signature"]) != b"\0" * 64
            if valid and (a.seq is None or int(it["seq"]) >= a.seq):
                items += 1
                if first_ms is None:
                    first_ms = (now - t1) * 1000.0
                    first_seq = int(it["seq"])
                best_seq = max(best_seq or 0, int(it["seq"]))
            if it["authoritative"]:
                done_ms = (now - t1) * 1000.0
    print(json.dumps({"ok": first_ms is not None, "port": via.port, "join_ms": round(join_ms, 2), "table": size,
                      "first_ms": first_ms, "done_ms": done_ms, "first_seq": first_seq, "best_seq": best_seq,
                      "alerts_with_value": items}))
    kit._finish(nodes)
    return 0 if first_ms is not None else 3


if __name__ == "__main__":
    sys.exit(main())
