// Exposes libzmq to Swift, plus constants whose macro definitions Swift cannot import.
#ifndef RADIXSERVE_CZEROMQ_SHIM_H
#define RADIXSERVE_CZEROMQ_SHIM_H

#include <errno.h>
#include <zmq.h>

// libzmq's own error numbers are defined as (ZMQ_HAUSNUMERO + n) on some platforms.
static const int czmq_ETERM = ETERM;
static const int czmq_EFSM = EFSM;
static const int czmq_EHOSTUNREACH = EHOSTUNREACH;
static const int czmq_EADDRINUSE = EADDRINUSE;
static const int czmq_EPROTONOSUPPORT = EPROTONOSUPPORT;
static const int czmq_EADDRNOTAVAIL = EADDRNOTAVAIL;
static const int czmq_ENOCOMPATPROTO = ENOCOMPATPROTO;

#endif
