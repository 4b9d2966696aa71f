#ifndef WORK_QUEUE_CRABBITMQ_SHIM_H
#define WORK_QUEUE_CRABBITMQ_SHIM_H

/* rabbitmq-c moved its headers under rabbitmq-c/ in 0.12; Debian 12 ships 0.11. */
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/framing.h>
#include <rabbitmq-c/tcp_socket.h>
#include <rabbitmq-c/ssl_socket.h>
#else
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#endif

/* Why: amqp_login is C-variadic, which Swift cannot call. PLAIN takes user then password. */
static inline amqp_rpc_reply_t wq_amqp_login_plain(amqp_connection_state_t state,
                                                   const char *vhost, int frame_max,
                                                   int heartbeat, const char *user,
                                                   const char *password) {
  return amqp_login(state, vhost, 0, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN,
                    user, password);
}

#endif
