"""Publishes the progress events of PODS processors, each once a second, as a real drain would
(working, counting up), to QUEUE.progress: what wqtop follows, without starting PODS processes.
Usage: fake_pods.py HOST PORT QUEUE PODS SECONDS"""
import json
import sys
import time
import uuid

import pika

host, port, queue, pods, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
connection = pika.BlockingConnection(pika.ConnectionParameters(host=host, port=port))
channel = connection.channel()
exchange = queue + ".progress"
channel.exchange_declare(exchange=exchange, exchange_type="fanout", durable=True)  # as the tools declare it
started = time.time()
instances = [uuid.uuid4().hex[:12] for _ in range(pods)]
seq = 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    tick = time.monotonic()
    seq += 1
    for i, instance in enumerate(instances):
        now = time.time()
        event = {"v": 1, "queue": queue, "pod": f"fake-pod-{i}", "instance": instance, "state": "working",
                 "processed": seq * 10, "failed": 0, "retried": 0, "dead_lettered": 0, "in_hand": 1,
                 "current": f"item-{seq * 10 + i}", "started_at": started, "sent_at": now, "rate": 10.0, "seq": seq}
        channel.basic_publish(exchange=exchange, routing_key="", body=json.dumps(event).encode(),
                              properties=pika.BasicProperties(content_type="application/json", delivery_mode=1))
    time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
connection.close()
