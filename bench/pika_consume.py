"""Baseline: a pika basic_consume processor with prefetch 100, acknowledging each item, ending
after 1 s without a delivery. Usage: pika_consume.py HOST PORT QUEUE"""
import sys

import pika

host, port, queue = sys.argv[1], int(sys.argv[2]), sys.argv[3]
connection = pika.BlockingConnection(pika.ConnectionParameters(host=host, port=port))
channel = connection.channel()
channel.basic_qos(prefetch_count=100)
for method, _properties, _body in channel.consume(queue=queue, inactivity_timeout=1.0):
    if method is None:
        break
    channel.basic_ack(delivery_tag=method.delivery_tag)  # no-op work
channel.cancel()
connection.close()
