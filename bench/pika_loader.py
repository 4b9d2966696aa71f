"""Baseline: the original's way to load, one basic_publish per item with pika (persistent).
Usage: pika_loader.py HOST PORT QUEUE COUNT [--confirm] [--type classic|quorum] [--size BYTES]"""
import sys

import pika

host, port, queue, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
connection = pika.BlockingConnection(pika.ConnectionParameters(host=host, port=port))
channel = connection.channel()
qtype = sys.argv[sys.argv.index("--type") + 1] if "--type" in sys.argv else "classic"
channel.queue_declare(queue=queue, durable=True, arguments={"x-queue-type": "quorum"} if qtype == "quorum" else None)
if "--confirm" in sys.argv:
    channel.confirm_delivery()  # each basic_publish then waits for the broker's confirm
properties = pika.BasicProperties(delivery_mode=2)
size = int(sys.argv[sys.argv.index("--size") + 1]) if "--size" in sys.argv else 0
for i in range(count):
    body = str(i).encode()
    if size:
        body = (b"%08d" % i).ljust(size, b"x")
    channel.basic_publish(exchange="", routing_key=queue, body=body, properties=properties)
connection.close()
