/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Per-connection state in socket-local storage (pinned as <pin dir>/conn_state), shared by the
 * sock_ops program (tcp_option.bpf.c), which creates it when a connection is established, and the
 * message tracepoints (message_events.bpf.c), which read it. A socket without this storage is not
 * one of the executor's: its cgroup is not a target, or it was established before the probe.
 */
#ifndef HLCTRACE_CONN_STATE_H
#define HLCTRACE_CONN_STATE_H

#include "hlc_clock.h"

struct conn_state {
	__u32 snd_base;      /* ISS + 1: sequence number of stream byte 0 we send */
	__u32 rcv_base;      /* IRS + 1: sequence number of stream byte 0 we receive */
	__u32 snd_seen;      /* write_seq at the last send event (wrap tracking) */
	__u32 rcv_seen;      /* copied_seq at the last recv event */
	__u64 snd_off;       /* 64-bit stream offset of snd_seen */
	__u64 rcv_off;       /* 64-bit stream offset of rcv_seen */
	__u32 stamped_end;   /* sequence number after the last byte a send event has stamped */
	__u32 _pad;
	__u64 pending_stamp; /* first clock tick written on a segment carrying not yet stamped bytes */
	__s64 pending_pt_ns; /* the physical time pending_stamp was ticked at (the send event's pt) */
	__u64 rx_hlc;        /* largest received option merged into the clock */
	__u64 rx_refused;    /* last option refused by the guard since the last recv event, 0 if none */
	/* The flow, read from the socket once (first event) instead of on every event. */
	__u32 flow_ready;
	__u32 netns;
	__u16 family;
	__u16 lport;         /* host order */
	__u16 rport;         /* host order */
	__u16 _pad2;
	__u8 laddr[16];
	__u8 raddr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct conn_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} conn_state SEC(".maps");

#endif
