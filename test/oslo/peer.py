#!/usr/bin/python3
"""A real oslo.messaging peer for busbench's interop tests.

Run it with Debian's python3-oslo.messaging interpreter (/usr/bin/python3).
Every event is one JSON object per line on stdout (flushed); logs go to stderr.

  peer.py serve  --url URL --topic T --server S [--exchange openstack] [--seconds N]
                 [--endpoint bench|ombt]
  peer.py call   --url URL --topic T [--server S] [--fanout] [--cast]
                 [--method bench] [--args JSON] [--no-seq] [--count N]
                 [--timeout SECONDS] [--retry N] [--exchange openstack]
  peer.py notify --url URL [--topic notifications] [--priority info]
                 [--event-type busbench.test] [--publisher-id busbench.peer]
                 [--payload JSON] [--count N] [--retry N] [--exchange openstack]
  peer.py listen --url URL [--topic notifications] [--priority info|all|a,b]
                 [--pool NAME] [--seconds N] [--exchange openstack]

Events:
  serve   {"event":"ready","server":S}
          {"event":"received","server":S,"method":M,"args":{...},"context":{...}}
          {"event":"stopped"}
  call    {"event":"reply","seq":i,"result":...,"ms":t}
          {"event":"error","seq":i,"class":C,"message":"...","remote":bool[,"exc_type":X]}
          {"event":"sent","seq":i}                       (casts and fanouts)
          {"event":"done","ok":k,"errors":e}
  notify  {"event":"sent","seq":i} ... {"event":"done"}
  listen  {"event":"ready","priorities":[...]}
          {"event":"notification","priority":P,"publisher_id":...,"event_type":...,
           "payload":...,"metadata":{...},"context":{...}}
          {"event":"stopped"}

Server endpoint methods: bench -> {"server": S, "seq": seq}; echo -> its kwargs;
fail -> raises ValueError("requested failure").
With --endpoint ombt the server has ombt's endpoint instead, with its exact
signatures (an unexpected keyword argument fails the call):
echo(ctxt, data, timestamp, msgid) -> data; noop(ctxt, data, timestamp, msgid) -> None.
"""
import argparse
import json
import logging
import signal
import sys
import threading
import time

from oslo_config import cfg
import oslo_messaging as messaging

PRIORITIES = ("audit", "debug", "info", "warn", "error", "critical", "sample")

_out_lock = threading.Lock()


def emit(**event):
    line = json.dumps(event, default=str)
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def configure(exchange):
    """A fresh, minimal ConfigOpts: no config files, no command line."""
    messaging.set_transport_defaults(control_exchange=exchange)
    conf = cfg.ConfigOpts()
    conf([], project="busbench-peer", default_config_files=[], default_config_dirs=[])
    # oslo.messaging 14 registers its metrics options on the global cfg.CONF only,
    # yet the RPC client reads them from the conf it is given: register them here.
    # Each call/cast also starts a non-daemon metrics thread that idles for
    # metrics_thread_stop_timeout (10 s by default) and so holds the process
    # open after the work is done; 0 makes it return at once.
    try:
        from oslo_messaging._metrics import client as metrics_client
        conf.register_opts(metrics_client.oslo_messaging_metrics, group="oslo_messaging_metrics")
        conf.set_override("metrics_thread_stop_timeout", 0, group="oslo_messaging_metrics")
    except ImportError:  # older/newer oslo.messaging without the metrics client
        pass
    return conf


def wait_for_stop(seconds):
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait(seconds if seconds and seconds > 0 else None)


def context_dict(ctxt):
    if isinstance(ctxt, dict):
        return ctxt
    to_dict = getattr(ctxt, "to_dict", None)
    return to_dict() if callable(to_dict) else {"repr": repr(ctxt)}


class BenchEndpoint(object):
    def __init__(self, server):
        self.server = server

    def _record(self, ctxt, method, kwargs):
        emit(event="received", server=self.server, method=method, args=kwargs, context=context_dict(ctxt))

    def bench(self, ctxt, **kwargs):
        self._record(ctxt, "bench", kwargs)
        return {"server": self.server, "seq": kwargs.get("seq")}

    def echo(self, ctxt, **kwargs):
        self._record(ctxt, "echo", kwargs)
        return kwargs

    def fail(self, ctxt, **kwargs):
        self._record(ctxt, "fail", kwargs)
        raise ValueError("requested failure")


class OmbtEndpoint(object):
    """ombt's RPC server endpoint (ombt/__init__.py RPCTestServer), same signatures."""

    def __init__(self, server):
        self.server = server

    def _record(self, ctxt, method, kwargs):
        emit(event="received", server=self.server, method=method, args=kwargs, context=context_dict(ctxt))

    def echo(self, ctxt, data, timestamp, msgid):
        self._record(ctxt, "echo", {"data": data, "timestamp": timestamp, "msgid": msgid})
        return data

    def noop(self, ctxt, data, timestamp, msgid):
        self._record(ctxt, "noop", {"data": data, "timestamp": timestamp, "msgid": msgid})


ENDPOINTS = {"bench": BenchEndpoint, "ombt": OmbtEndpoint}


def serve(args):
    conf = configure(args.exchange)
    transport = messaging.get_rpc_transport(conf, url=args.url)
    target = messaging.Target(topic=args.topic, server=args.server)
    endpoint = ENDPOINTS[args.endpoint](args.server)
    server = messaging.get_rpc_server(transport, target, [endpoint], executor="threading")
    # start() declares the exchanges and the three queues (T, T.S, T_fanout_<id>)
    # and binds them before it returns, so calls sent from now on are kept.
    server.start()
    emit(event="ready", server=args.server)
    wait_for_stop(args.seconds)
    server.stop()
    server.wait()
    transport.cleanup()
    emit(event="stopped")


def rpc_client(transport, target, timeout, retry):
    factory = getattr(messaging, "get_rpc_client", None)
    if factory is not None:
        return factory(transport, target, timeout=timeout, retry=retry)
    return messaging.RPCClient(transport, target, timeout=timeout, retry=retry)


def describe_error(error):
    """class (without oslo's _Remote suffix), first message line, and whether the server raised it."""
    name = type(error).__name__
    text = str(error)
    # A builtin exception raised by the server comes back as that class with the
    # remote traceback appended to its message; other classes get a *_Remote
    # subclass, or RemoteError when their module is not importable/allowed.
    remote = name.endswith("_Remote") or "\nTraceback (most recent call last)" in text
    if name.endswith("_Remote"):
        name = name[: -len("_Remote")]
    detail = {"class": name, "message": text.split("\n")[0]}
    if isinstance(error, messaging.RemoteError):
        remote = True
        detail["exc_type"] = error.exc_type
        detail["value"] = error.value
    detail["remote"] = remote
    return detail


def call(args):
    conf = configure(args.exchange)
    transport = messaging.get_rpc_transport(conf, url=args.url)
    client = rpc_client(transport, messaging.Target(topic=args.topic), args.timeout, args.retry)
    if args.server or args.fanout:
        client = client.prepare(server=args.server, fanout=args.fanout)
    base = json.loads(args.args)
    if not isinstance(base, dict):
        raise SystemExit("--args must be a JSON object")
    cast = args.cast or args.fanout
    ctxt = {"peer": "python", "request_id": "req-py"}
    ok = errors = 0
    for seq in range(args.count):
        kwargs = dict(base) if args.no_seq else dict(base, seq=seq)
        started = time.monotonic()
        try:
            if cast:
                client.cast(ctxt, args.method, **kwargs)
                emit(event="sent", seq=seq)
            else:
                result = client.call(ctxt, args.method, **kwargs)
                emit(event="reply", seq=seq, result=result, ms=round((time.monotonic() - started) * 1000, 3))
            ok += 1
        except Exception as error:  # the tests want to see every failure
            errors += 1
            emit(event="error", seq=seq, ms=round((time.monotonic() - started) * 1000, 3), **describe_error(error))
    transport.cleanup()
    emit(event="done", ok=ok, errors=errors)


def notify(args):
    conf = configure(args.exchange)
    transport = messaging.get_notification_transport(conf, url=args.url)
    notifier = messaging.Notifier(transport, publisher_id=args.publisher_id, driver="messagingv2",
                                  topics=[args.topic], retry=args.retry)
    payload = json.loads(args.payload)
    if args.priority not in PRIORITIES:
        raise SystemExit("--priority must be one of " + ", ".join(PRIORITIES))
    send = getattr(notifier, args.priority)
    for seq in range(args.count):
        body = dict(payload, seq=seq) if isinstance(payload, dict) else {"value": payload, "seq": seq}
        send({"peer": "python", "request_id": "req-py"}, args.event_type, body)
        emit(event="sent", seq=seq)
    transport.cleanup()
    emit(event="done")


class NotificationEndpoint(object):
    """Has one method per wanted priority; the dispatcher listens only to those."""

    def __init__(self, priorities):
        for priority in priorities:
            setattr(self, priority, self._recorder(priority))

    @staticmethod
    def _recorder(priority):
        def record(ctxt, publisher_id, event_type, payload, metadata):
            emit(event="notification", priority=priority, publisher_id=publisher_id, event_type=event_type,
                 payload=payload, metadata=metadata, context=context_dict(ctxt))
        return record


def listen(args):
    if args.priority == "all":
        priorities = list(PRIORITIES)
    else:
        priorities = [p.strip() for p in args.priority.split(",") if p.strip()]
        unknown = [p for p in priorities if p not in PRIORITIES]
        if unknown or not priorities:
            raise SystemExit("--priority takes 'all' or a comma list of " + ", ".join(PRIORITIES))
    conf = configure(args.exchange)
    transport = messaging.get_notification_transport(conf, url=args.url)
    targets = [messaging.Target(topic=args.topic)]
    listener = messaging.get_notification_listener(transport, targets, [NotificationEndpoint(priorities)],
                                                   executor="threading", pool=args.pool)
    # start() declares and binds the queues <topic>.<priority> (or, with a pool,
    # <topic>.<priority> named after the pool) before it returns.
    listener.start()
    emit(event="ready", priorities=priorities)
    wait_for_stop(args.seconds)
    listener.stop()
    listener.wait()
    transport.cleanup()
    emit(event="stopped")


RETRY_HELP = ("connection retries before giving up (oslo's default: forever, even past --timeout, "
              "so a peer pointed at a dead broker hangs; 0 = fail at once)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-level", default="WARNING", help="stderr log level (default WARNING)")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--url", required=True, help="transport URL, e.g. rabbit://guest:guest@127.0.0.1:5672/")
        p.add_argument("--exchange", default="openstack", help="control exchange (default openstack)")

    p = sub.add_parser("serve", help="RPC server for (topic, server)")
    common(p)
    p.add_argument("--topic", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--seconds", type=float, default=0, help="stop after N seconds (default: on SIGTERM)")
    p.add_argument("--endpoint", choices=sorted(ENDPOINTS), default="bench",
                   help="bench (default: bench/echo/fail) or ombt (ombt's echo/noop signatures)")
    p.set_defaults(run=serve)

    p = sub.add_parser("call", help="sequential RPC calls, casts or fanouts")
    common(p)
    p.add_argument("--topic", required=True)
    p.add_argument("--server")
    p.add_argument("--fanout", action="store_true", help="fanout cast (implies --cast)")
    p.add_argument("--cast", action="store_true")
    p.add_argument("--method", default="bench")
    p.add_argument("--args", default="{}", help="JSON object of keyword arguments; seq is added")
    p.add_argument("--no-seq", action="store_true", help="send --args exactly, without adding seq")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--timeout", type=float, default=10, help="call timeout in seconds (default 10)")
    p.add_argument("--retry", type=int, default=None, help=RETRY_HELP)
    p.set_defaults(run=call)

    p = sub.add_parser("notify", help="send notifications (messagingv2)")
    common(p)
    p.add_argument("--topic", default="notifications")
    p.add_argument("--priority", default="info")
    p.add_argument("--event-type", default="busbench.test")
    p.add_argument("--publisher-id", default="busbench.peer")
    p.add_argument("--payload", default="{}", help="JSON object; seq is added")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--retry", type=int, default=None, help=RETRY_HELP)
    p.set_defaults(run=notify)

    p = sub.add_parser("listen", help="notification listener")
    common(p)
    p.add_argument("--topic", default="notifications")
    p.add_argument("--priority", default="info", help="'all' or a comma list (default info)")
    p.add_argument("--pool")
    p.add_argument("--seconds", type=float, default=0, help="stop after N seconds (default: on SIGTERM)")
    p.set_defaults(run=listen)

    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, args.log_level.upper(), logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args.run(args)


if __name__ == "__main__":
    main()
