#!/usr/bin/python3
"""A real oslo.messaging peer for busbench's interop tests.

Runs with Debian's python3-oslo.messaging (/usr/bin/python3). Every event is
one JSON object per line on stdout; logs go to stderr.

  peer.py serve  --url URL --topic T --server S [--seconds N]
  peer.py call   --url URL --topic T [--server S] [--fanout] [--cast]
                 [--method bench] [--args JSON] [--count N] [--timeout S]
  peer.py notify --url URL [--topic notifications] [--priority info]
                 [--event-type E] [--payload JSON] [--count N]
  peer.py listen --url URL [--topic notifications] [--priority info]
                 [--pool NAME] [--seconds N]
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


def emit(**event):
    sys.stdout.write(json.dumps(event, default=str) + "\n")
    sys.stdout.flush()


def configure(exchange):
    # oslo's metrics client registers its options on the global CONF, so the
    # RPC client needs that object rather than a fresh ConfigOpts.
    conf = cfg.CONF
    conf([], project="busbench-peer")
    messaging.set_transport_defaults(control_exchange=exchange)
    return conf


def wait_for_stop(seconds):
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait(seconds if seconds > 0 else None)


class BenchEndpoint(object):
    def __init__(self, server):
        self.server = server

    def _record(self, ctxt, method, kwargs):
        emit(event="received", server=self.server, method=method, args=kwargs, context=ctxt)

    def bench(self, ctxt, **kwargs):
        self._record(ctxt, "bench", kwargs)
        return {"server": self.server, "seq": kwargs.get("seq")}

    def echo(self, ctxt, **kwargs):
        self._record(ctxt, "echo", kwargs)
        return kwargs

    def fail(self, ctxt, **kwargs):
        self._record(ctxt, "fail", kwargs)
        raise ValueError("requested failure")


def serve(args):
    conf = configure(args.exchange)
    transport = messaging.get_rpc_transport(conf, url=args.url)
    target = messaging.Target(topic=args.topic, server=args.server)
    server = messaging.get_rpc_server(transport, target, [BenchEndpoint(args.server)], executor="threading")
    server.start()
    emit(event="ready", server=args.server)
    wait_for_stop(args.seconds)
    server.stop()
    server.wait()
    transport.cleanup()
    emit(event="stopped")


def call(args):
    conf = configure(args.exchange)
    transport = messaging.get_rpc_transport(conf, url=args.url)
    client = messaging.get_rpc_client(transport, messaging.Target(topic=args.topic), timeout=args.timeout)
    prepared = client.prepare(server=args.server, fanout=args.fanout) if (args.server or args.fanout) else client
    base = json.loads(args.args)
    ok = errors = 0
    for seq in range(args.count):
        kwargs = dict(base, seq=seq)
        try:
            if args.cast or args.fanout:
                prepared.cast({"peer": "python"}, args.method, **kwargs)
                emit(event="sent", seq=seq)
            else:
                result = prepared.call({"peer": "python"}, args.method, **kwargs)
                emit(event="reply", seq=seq, result=result)
            ok += 1
        except Exception as error:  # the tests want to see every failure
            errors += 1
            emit(event="error", seq=seq, **{"class": type(error).__name__, "message": str(error).split("\n")[0]})
    transport.cleanup()
    emit(event="done", ok=ok, errors=errors)


def notify(args):
    conf = configure(args.exchange)
    transport = messaging.get_notification_transport(conf, url=args.url)
    notifier = messaging.Notifier(transport, publisher_id=args.publisher_id, driver="messagingv2", topics=[args.topic])
    payload = json.loads(args.payload)
    send = getattr(notifier, args.priority)
    for seq in range(args.count):
        # oslo keeps only RequestContext keys (request_id, user_id, …) of a notification context.
        send({"peer": "python", "request_id": "req-py"}, args.event_type, dict(payload, seq=seq))
        emit(event="sent", seq=seq)
    transport.cleanup()
    emit(event="done")


class NotificationEndpoint(object):
    def _record(self, priority, ctxt, publisher_id, event_type, payload, metadata):
        emit(event="notification", priority=priority, publisher_id=publisher_id, event_type=event_type,
             payload=payload, metadata=metadata, context=ctxt)

    def __getattr__(self, priority):
        if priority in ("audit", "debug", "info", "warn", "error", "critical", "sample"):
            return lambda *a: self._record(priority, *a)
        raise AttributeError(priority)


def listen(args):
    conf = configure(args.exchange)
    transport = messaging.get_notification_transport(conf, url=args.url)
    targets = [messaging.Target(topic=args.topic)]
    listener = messaging.get_notification_listener(transport, targets, [NotificationEndpoint()],
                                                   executor="threading", pool=args.pool)
    listener.start()
    emit(event="ready")
    wait_for_stop(args.seconds)
    listener.stop()
    listener.wait()
    transport.cleanup()
    emit(event="stopped")


def main():
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--url", required=True)
        p.add_argument("--exchange", default="openstack")

    p = sub.add_parser("serve")
    common(p)
    p.add_argument("--topic", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--seconds", type=float, default=0)
    p.set_defaults(run=serve)

    p = sub.add_parser("call")
    common(p)
    p.add_argument("--topic", required=True)
    p.add_argument("--server")
    p.add_argument("--fanout", action="store_true")
    p.add_argument("--cast", action="store_true")
    p.add_argument("--method", default="bench")
    p.add_argument("--args", default="{}")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--timeout", type=float, default=10)
    p.set_defaults(run=call)

    p = sub.add_parser("notify")
    common(p)
    p.add_argument("--topic", default="notifications")
    p.add_argument("--priority", default="info")
    p.add_argument("--event-type", default="busbench.test")
    p.add_argument("--publisher-id", default="busbench.peer")
    p.add_argument("--payload", default="{}")
    p.add_argument("--count", type=int, default=1)
    p.set_defaults(run=notify)

    p = sub.add_parser("listen")
    common(p)
    p.add_argument("--topic", default="notifications")
    p.add_argument("--priority", default="info")
    p.add_argument("--pool")
    p.add_argument("--seconds", type=float, default=0)
    p.set_defaults(run=listen)

    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
