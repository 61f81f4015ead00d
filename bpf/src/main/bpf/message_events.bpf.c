// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One event per application send and receive on the executor's TCP connections, from the
 * sock:sock_send_length and sock:sock_recv_length tracepoints (they fire when sendmsg/recvmsg
 * return, in the calling process). Each ticks the executor clock and goes to user space through
 * the ring buffer (pinned as <pin dir>/events); a full ring buffer is counted, never silent.
 *
 * The layout of struct probe_event is mirrored by io.hlctrace.probe.ProbeEvent (docs/kernel-probe.md).
 */
#include "hlc_clock.h"
#include "conn_state.h"
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define AF_INET 2
#define AF_INET6 10
#define MSG_PEEK 2
#define IPPROTO_TCP 6

enum { EVENT_SEND = 1, EVENT_RECV = 2 };
enum { EVENT_FLAG_REFUSED = 1, EVENT_FLAG_UNHEALTHY = 2 };

struct probe_event {
	__u64 hlc;       /*   0 */
	__u64 rhlc;      /*   8: recv: HLC carried by the last option on the connection (0 = none) */
	__u64 pt;        /*  16: the executor's physical time, ns */
	__u64 cgroup;    /*  24: cgroup v2 id of the process */
	__u64 off;       /*  32: stream offset of the first byte */
	__u32 bytes;     /*  40 */
	__u32 tcp_seq;   /*  44: TCP sequence number of the first byte */
	__u32 pid;       /*  48: tgid */
	__u32 tid;       /*  52 */
	__u32 netns;     /*  56: network namespace inode */
	__u16 family;    /*  60: AF_INET or AF_INET6 */
	__u8 kind;       /*  62: EVENT_SEND / EVENT_RECV */
	__u8 flags;      /*  63: EVENT_FLAG_REFUSED | EVENT_FLAG_UNHEALTHY */
	__u16 lport;     /*  64: host order */
	__u16 rport;     /*  66: host order */
	__u32 _pad;      /*  68 */
	__u8 laddr[16];  /*  72: IPv4 in the first 4 bytes */
	__u8 raddr[16];  /*  88 */
	char comm[16];   /* 104 */
};                       /* 120 */

_Static_assert(sizeof(struct probe_event) == 120, "ProbeEvent.java mirrors this layout");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* the daemon resizes it from probe.yml before loading */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} events SEC(".maps");

static __always_inline void read_flow(struct conn_state *cs, struct sock *sk)
{
	cs->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	cs->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	cs->rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (cs->family == AF_INET6) {
		BPF_CORE_READ_INTO(&cs->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&cs->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		BPF_CORE_READ_INTO((__u32 *)cs->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)cs->raddr, sk, __sk_common.skc_daddr);
	}
	cs->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	cs->flow_ready = 1;
}

static __always_inline int on_message(struct sock *sk, int ret, int flags, __u8 kind)
{
	if (ret <= 0 || !sk)
		return 0;
	if (kind == EVENT_RECV && (flags & MSG_PEEK))
		return 0;
	/* tp_btf hands BTF pointers: plain loads (CO-RE relocated), no bpf_probe_read per field */
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	struct conn_state *cs = bpf_sk_storage_get(&conn_state, sk, 0, 0);
	if (!cs)
		return 0; /* not a connection of this executor's targets */
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 0;
	struct hlc_clock_state *s = hlc_state();
	if (!s)
		return 0;

	__s64 pt_ns;
	__u64 hlc, rhlc = 0, off;
	__u32 end_seq;
	__u8 eflags = 0;
	/* The flag as of this stamp, not as of the daemon's drain. */
	bool unhealthy = hlc_unhealthy(s);
	bool withhold = unhealthy && hlc_withholding(s);
	if (unhealthy)
		eflags |= EVENT_FLAG_UNHEALTHY;
	if (kind == EVENT_SEND) {
		end_seq = tp->write_seq;
		cs->stamped_end = end_seq;
		/* read first: the exchange (a locked instruction) only when a segment left a stamp */
		__u64 pending = cs->pending_stamp;
		if (pending)
			pending = __sync_lock_test_and_set(&cs->pending_stamp, 0);
		cs->snd_off += (__u32)(end_seq - cs->snd_seen);
		cs->snd_seen = end_seq;
		off = cs->snd_off - (__u32)ret;
		if (withhold) {
			/* fail-stop, fail_mode refuse: no stamp; the offsets above stay counted */
			hlc_count(STAT_EVENTS_WITHHELD);
			return 0;
		}
		/* A segment of this message left inside sendmsg() carrying a tick of its own: that tick
		 * is the send's stamp (unique, and below the option that carried the bytes); no second
		 * tick. Otherwise (nothing left yet, e.g. corked or window-limited) tick now. */
		if (pending) {
			hlc = pending;
			pt_ns = cs->pending_pt_ns;
		} else {
			pt_ns = hlc_physical_ns(s);
			hlc = hlc_tick(s, hlc_from_ns(pt_ns), 0);
		}
	} else {
		end_seq = tp->copied_seq;
		__u64 refused = cs->rx_refused;
		if (refused)
			refused = __sync_lock_test_and_set(&cs->rx_refused, 0);
		cs->rcv_off += (__u32)(end_seq - cs->rcv_seen);
		cs->rcv_seen = end_seq;
		off = cs->rcv_off - (__u32)ret;
		if (withhold) {
			hlc_count(STAT_EVENTS_WITHHELD);
			return 0;
		}
		if (refused) {
			rhlc = refused;
			eflags |= EVENT_FLAG_REFUSED;
		} else {
			rhlc = cs->rx_hlc;
		}
		/* The options were merged when the segments arrived (or deferred while the executor
		 * was fail-stopped); merging again is what makes the receive's own stamp provably above
		 * the sender's, whatever ticked in between. */
		pt_ns = hlc_physical_ns(s);
		hlc = hlc_tick(s, hlc_from_ns(pt_ns), cs->rx_hlc);
	}

	struct probe_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		hlc_count(STAT_RINGBUF_DROPS);
		return 0;
	}
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	e->hlc = hlc;
	e->rhlc = rhlc;
	e->pt = (__u64)pt_ns;
	e->cgroup = bpf_get_current_cgroup_id();
	e->off = off;
	e->bytes = (__u32)ret;
	e->tcp_seq = end_seq - (__u32)ret;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->kind = kind;
	e->flags = eflags;
	e->_pad = 0;
	if (!cs->flow_ready)
		read_flow(cs, sk);
	e->family = cs->family;
	e->lport = cs->lport;
	e->rport = cs->rport;
	e->netns = cs->netns;
	__builtin_memcpy(e->laddr, cs->laddr, sizeof(e->laddr));
	__builtin_memcpy(e->raddr, cs->raddr, sizeof(e->raddr));
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* No wakeup: the daemon drains the buffer on its own schedule (a wakeup per event would
	 * cost the traced application a context switch per message). */
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	hlc_count(STAT_EVENTS);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(hlc_on_send, struct sock *sk, int ret, int flags)
{
	return on_message(sk, ret, flags, EVENT_SEND);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(hlc_on_recv, struct sock *sk, int ret, int flags)
{
	return on_message(sk, ret, flags, EVENT_RECV);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
