"""Baseline: the original processor, a basic_get + basic_ack loop until the queue answers empty.
Usage: pika_get.py HOST PORT QUEUE"""
import sys

import pika

host, port, queue = sys.argv[1], int(sys.argv[2]), sys.argv[3]
connection = pika.BlockingConnection(pika.ConnectionParameters(host=host, port=port))
channel = connection.channel()
while True:
    method, _properties, body = channel.basic_get(queue=queue)
    if method is None:
        break
    channel.basic_ack(delivery_tag=method.delivery_tag)  # no-op work
connection.close()
