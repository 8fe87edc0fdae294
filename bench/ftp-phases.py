#!/usr/bin/env python3
"""bench/ftp-phases.py STRACE PORTS: where a SEND's time goes, from servmgr's side.

STRACE is `strace -f -tt -e trace=connect,read,write -s 60` of one
`csmsim servmgr 'srvlvl send ...'` (bench/send.sh --trace writes it);
PORTS is a file of "SYSTEM PORT" lines, each system's CSMSERVE control port.
Each system's FTP dialogue is cut into what the principal waits for:

  login     connect to the first STOR (USER, PASS, FEAT, TYPE)
  transfer  each STOR to its 226 (the bytes, and the node writing them)
  xsha256   each XSHA256 to its 250 (the node re-reads the file to hash it)
  ftp_misc  the rest before the LOAD job (EPSV and its data connection)
  job       SITE CSMAGENT LOAD to the STATUS reply that says ENDED: the
            agent's validate and load, seen through STATUS polls
  validate  of job: LOAD to the first reply RUNNING PHASE LOAD
  load      of job: from there to ENDED (both to within one poll; a job
            that ended before the first poll counts as validate)
  poll_lag  of job: the last RUNNING reply to the ENDED reply (the job ended
            somewhere in there; servmgr polls every 100 ms)
  wrapup    ENDED to 221 (SIZE and RETR of the job's messages, QUIT)

and, for the whole command, startup (exec to the first connect: reading the
principal's state) and finish (the last 221 to exit: SYSSTAT, the log).
"""
import re
import statistics
import sys

LINE = re.compile(r'^(\d+)\s+(\d\d):(\d\d):(\d\d\.\d+)\s+(\w+)\((\d+), (.*)$')
UNFINISHED = re.compile(r'^(.*)<unfinished \.\.\.>$')
RESUMED = re.compile(r'^(\d+)\s+(\d\d):(\d\d):(\d\d\.\d+)\s+<\.\.\. (\w+) resumed>(.*)$')
CONNECT_PORT = re.compile(r'sin_port=htons\((\d+)\)')
TEXT = re.compile(r'^"((?:[^"\\]|\\.)*)"')


def seconds(h, m, s):
    return int(h) * 3600 + int(m) * 60 + float(s)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bench/ftp-phases.py STRACE PORTS")
    ports = {}
    with open(sys.argv[2]) as f:
        for line in f:
            name, port = line.split()
            ports[int(port)] = name
    sessions = {}  # system -> list of (t, kind, text)
    on_fd = {}     # fd -> system, while its control connection is open
    first = last = None
    first_connect = last_quit = None
    unfinished = {}  # (pid, call) -> (fd, the arguments before the break)
    with open(sys.argv[1], errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            r = RESUMED.match(line)
            if r:
                # A call another thread's output interrupted: its start
                # line had the arguments, this one has the result.
                begun = unfinished.pop((r.group(1), r.group(5)), None)
                if begun is None:
                    continue
                t = seconds(r.group(2), r.group(3), r.group(4))
                call, fd, rest = r.group(5), begun[0], (begun[1] + r.group(6)).lstrip()
            else:
                m = LINE.match(line)
                if not m:
                    continue
                t = seconds(m.group(2), m.group(3), m.group(4))
                call, fd, rest = m.group(5), int(m.group(6)), m.group(7)
                u = UNFINISHED.match(rest)
                if u:
                    unfinished[(m.group(1), call)] = (fd, u.group(1))
                    continue
            first = t if first is None else first
            last = t
            if call == "connect":
                p = CONNECT_PORT.search(rest)
                if p and int(p.group(1)) in ports:
                    sys_ = ports[int(p.group(1))]
                    on_fd[fd] = sys_
                    sessions.setdefault(sys_, []).append((t, "connect", ""))
                    first_connect = t if first_connect is None else first_connect
                continue
            sys_ = on_fd.get(fd)
            if sys_ is None:
                continue
            tm = TEXT.match(rest)
            if not tm:
                continue
            text = tm.group(1)
            sessions[sys_].append((t, call, text))
            if call == "read" and text.startswith("221"):
                del on_fd[fd]
                last_quit = t
    if not sessions:
        sys.exit("ftp-phases: no session to a known port in the trace")

    cats = ["login", "transfer", "xsha256", "ftp_misc", "job", "validate", "load", "poll_lag", "wrapup", "total"]
    per = {}
    for name, ev in sorted(sessions.items()):
        c = dict.fromkeys(cats, 0.0)
        polls = 0
        t0 = ev[0][0]
        pending = None  # (kind, t) of the command awaiting its final reply
        first_stor = load = last_running = ended = quit_ = loading = None
        for t, call, text in ev:
            if call == "write":
                if text.startswith("STOR "):
                    first_stor = t if first_stor is None else first_stor
                    pending = ("transfer", t)
                elif text.startswith("XSHA256 "):
                    pending = ("xsha256", t)
                elif text.startswith("SITE CSMAGENT LOAD"):
                    load = t
                elif text.startswith("SITE CSMAGENT STATUS"):
                    polls += 1
            elif call == "read":
                if pending and pending[0] == "transfer" and re.search(r'(^|\\n)226 ', text):
                    c["transfer"] += t - pending[1]
                    pending = None
                elif pending and pending[0] == "xsha256" and re.search(r'(^|\\n)250 ', text):
                    c["xsha256"] += t - pending[1]
                    pending = None
                elif "CSMAGENT JOB" in text and "RUNNING" in text:
                    last_running = t
                    if "PHASE LOAD" in text and loading is None:
                        loading = t
                elif "CSMAGENT JOB" in text and "ENDED" in text:
                    ended = t
                elif text.startswith("221"):
                    quit_ = t
        if first_stor is None or load is None or ended is None or quit_ is None:
            sys.exit(f"ftp-phases: {name}'s dialogue is incomplete in the trace")
        c["login"] = first_stor - t0
        c["job"] = ended - load
        c["poll_lag"] = ended - (last_running or load)
        c["validate"] = (loading or ended) - load
        c["load"] = ended - (loading or ended)
        c["wrapup"] = quit_ - ended
        c["ftp_misc"] = (load - first_stor) - c["transfer"] - c["xsha256"]
        c["total"] = quit_ - t0
        c["polls"] = polls
        per[name] = c

    n = len(per)
    print(f"{n} systems; servmgr: {last - first:.2f} s from its first traced call to its last, "
          f"startup {first_connect - first:.2f} s, finish {last - last_quit:.2f} s")
    print(f"{'per system (s)':<16}" + "".join(f"{k:>10}" for k in cats + ["polls"]))
    for label, f in (("mean", statistics.mean), ("max", max)):
        print(f"{label:<16}" + "".join(f"{f([c[k] for c in per.values()]):>10.3f}" for k in cats)
              + f"{f([c['polls'] for c in per.values()]):>10.1f}")
    sums = {k: sum(c[k] for c in per.values()) for k in cats}
    if sums["total"] > 0:
        print(f"{'share of total':<16}" + "".join(f"{100 * sums[k] / sums['total']:>9.0f}%" for k in cats))


if __name__ == "__main__":
    main()
