#!/usr/bin/python3
"""dnspython's view of our server's replies, for the proof tests (tests/Pkarr.DnsServer.Tests/Tools).

  dnsprobe.py queries HOST PORT FILE   FILE: JSON list of {"id", "name", "type", "tcp", "payload" (null: no EDNS),
                                       "rd"}; sends each query, parses each reply strictly, prints a JSON list
  dnsprobe.py parse FILE...            parses DNS messages stored in files (DoH bodies), prints a JSON list

Each summary: id, is_response (dnspython's check of id, opcode and question against the query), rcode, flags,
answer/authority/additional as "owner ttl class type rdata" lines, edns version (-1: none), payload, wire_len and
rendered_len (the length of dnspython's own compressed encoding of the same message), or "error" when the reply did
not come or did not parse. Python 3 and Debian's python3-dnspython only.
"""
import json
import socket
import struct
import sys

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype


def lines(section):
    return [f"{rrset.name} {rrset.ttl} IN {dns.rdatatype.to_text(rrset.rdtype)} {rdata.to_text()}"
            for rrset in section for rdata in rrset]


def summary(wire, query=None):
    # Strict: trailing bytes, bad pointers, bad names, bad rdata and wrong counts all raise.
    message = dns.message.from_wire(wire)
    return {
        "id": message.id,
        "is_response": query.is_response(message) if query is not None else None,
        "rcode": dns.rcode.to_text(message.rcode()),
        "flags": dns.flags.to_text(message.flags).split(),
        "answer": lines(message.answer),
        "authority": lines(message.authority),
        "additional": lines(message.additional),
        "edns": message.edns,
        "payload": message.payload,
        "wire_len": len(wire),
        "rendered_len": len(message.to_wire(max_size=65535)),
    }


def exchange(host, port, wire, tcp, timeout=5.0):
    if tcp:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack("!H", len(wire)) + wire)
            length = struct.unpack("!H", receive(sock, 2))[0]
            return receive(sock, length)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(wire, (host, port))
        while True:
            reply, _ = sock.recvfrom(65535)
            if reply[:2] == wire[:2]:
                return reply


def receive(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


def queries(host, port, path):
    with open(path, encoding="utf-8") as file:
        asked = json.load(file)
    results = []
    for item in asked:
        payload = item.get("payload")
        query = dns.message.make_query(item["name"], item["type"], use_edns=0 if payload else False,
                                       payload=payload or 512)
        query.id = item["id"]
        if not item.get("rd", True):
            query.flags &= ~dns.flags.RD
        try:
            result = summary(exchange(host, port, query.to_wire(), item.get("tcp", False)), query)
        except (dns.exception.DNSException, OSError, EOFError, ValueError) as error:
            result = {"id": item["id"], "error": f"{type(error).__name__}: {error}"}
        result["name"] = item["name"]
        result["type"] = item["type"]
        result["tcp"] = item.get("tcp", False)
        results.append(result)
    return results


def parse(paths):
    results = []
    for path in paths:
        with open(path, "rb") as file:
            wire = file.read()
        try:
            results.append(summary(wire))
        except (dns.exception.DNSException, ValueError) as error:
            results.append({"error": f"{type(error).__name__}: {error}", "wire_len": len(wire)})
    return results


def main(argv):
    if len(argv) == 4 and argv[0] == "queries":
        print(json.dumps(queries(argv[1], int(argv[2]), argv[3])))
    elif len(argv) >= 2 and argv[0] == "parse":
        print(json.dumps(parse(argv[1:])))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
