// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Carries the executor's HLC on every TCP segment of the target cgroups' connections, and merges
 * the peer's HLC into the executor clock when a segment arrives, before its data reaches the
 * application.
 *
 * Wire format (12 bytes, RFC 6994 experimental option with an ExID):
 *   kind 254 | length 12 | ExID 0x484C ("HL") | HLC word, 8 bytes, network byte order
 *
 * A peer without the program ignores the option (unknown option kinds are skipped by TCP).
 *
 * Two programs: hlc_sockops for the targets whose messages the probe logs (it creates the
 * per-connection state that the message tracepoints need), and hlc_sockops_option_only for
 * cgroups whose processes log their own events (instrumented JVMs): the same option, written and
 * merged into the same executor clock, but no connection state, so the tracepoints skip them.
 *
 * Fail-stop (fail_mode refuse, unhealthy flag set): no option is written, received options are
 * not merged (the clock does not move while it cannot be trusted; a logged connection keeps the
 * option for its next receive event), and both are counted.
 */
#include "hlc_clock.h"
#include "conn_state.h"
#include <bpf/bpf_endian.h>

#define HLC_OPT_KIND 254
#define HLC_OPT_LEN 12
#define HLC_OPT_EXID 0x484C

struct hlc_tcp_opt {
	__u8 kind;
	__u8 len;
	__be16 exid;
	__be64 hlc;
} __attribute__((packed));

static __always_inline __u64 forged_hlc(void)
{
	__u32 k = CONTROL_FORGE_COUNT;
	__u64 *count = bpf_map_lookup_elem(&control, &k);
	if (!count || *count == 0)
		return 0;
	__sync_fetch_and_add(count, -1);
	k = CONTROL_FORGE_HLC;
	__u64 *v = bpf_map_lookup_elem(&control, &k);
	return v ? *v : 0;
}

static __always_inline void enable_options(struct bpf_sock_ops *skops)
{
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
					 BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG |
					 BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG);
}

static __always_inline void init_conn(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	if (!sk)
		return;
	struct conn_state *cs = bpf_sk_storage_get(&conn_state, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!cs)
		return;
	/* At ESTABLISHED, snd_nxt = ISS + 1 and rcv_nxt = IRS + 1: stream byte 0 of each direction. */
	cs->snd_base = skops->snd_nxt;
	cs->rcv_base = skops->rcv_nxt;
	cs->snd_seen = skops->snd_nxt;
	cs->rcv_seen = skops->rcv_nxt;
	cs->stamped_end = skops->snd_nxt;
}

static __always_inline void write_option(struct bpf_sock_ops *skops, const bool logged)
{
	struct hlc_clock_state *s = hlc_state();
	if (!s)
		return;
	if (hlc_withholding(s)) {
		hlc_count(STAT_OPTIONS_WITHHELD);
		return; /* the reserved bytes go out as NOPs */
	}
	__u32 payload = 0;
	__u32 seq = 0;
	struct tcphdr *th = skops->skb_data;
	if ((void *)(th + 1) <= skops->skb_data_end) {
		payload = skops->skb_len - th->doff * 4;
		seq = bpf_ntohl(th->seq);
	}
	__u64 value;
	__s64 pt_ns = hlc_physical_ns(s);
	__u64 pt = hlc_from_ns(pt_ns);
	if (payload > 0) {
		/* A segment with data is a step of the send: tick, so the receiver ends up above it. */
		value = hlc_tick(s, pt, 0);
		/*
		 * Bytes not yet stamped by a send event are leaving inside sendmsg(), before the
		 * sock_send_length tracepoint fires: remember this tick, the send event takes it, so
		 * that the send is never stamped above an option that carried its bytes. (An agent
		 * stamps its send before it writes, so option-only connections need nothing here.)
		 */
		if (logged) {
			struct bpf_sock *sk = skops->sk;
			struct conn_state *cs = sk ? bpf_sk_storage_get(&conn_state, sk, 0, 0) : 0;
			if (cs && (__s32)(seq + payload - cs->stamped_end) > 0 && !cs->pending_stamp) {
				/* pt first: whoever takes the stamp finds its pt (concurrent writers differ by ns) */
				cs->pending_pt_ns = pt_ns;
				__sync_val_compare_and_swap(&cs->pending_stamp, 0, value);
			}
		}
	} else {
		/* ACKs carry the clock as it is: they are no event of the application. */
		value = *(volatile __u64 *)&s->hlc;
		if (pt > value)
			value = pt;
	}
	__u64 forged = forged_hlc();
	if (forged)
		value = forged;
	struct hlc_tcp_opt opt = {
		.kind = HLC_OPT_KIND,
		.len = HLC_OPT_LEN,
		.exid = bpf_htons(HLC_OPT_EXID),
		.hlc = bpf_cpu_to_be64(value),
	};
	if (bpf_store_hdr_opt(skops, &opt, sizeof(opt), 0) == 0)
		hlc_count(STAT_OPTIONS_WRITTEN);
}

static __always_inline void parse_option(struct bpf_sock_ops *skops, const bool logged)
{
	/* Searching a kind-254 option by ExID: length byte 4 = kind, length, 2-byte ExID. */
	struct hlc_tcp_opt opt = {
		.kind = HLC_OPT_KIND,
		.len = 4,
		.exid = bpf_htons(HLC_OPT_EXID),
	};
	int n = bpf_load_hdr_opt(skops, &opt, sizeof(opt), 0);
	if (n != HLC_OPT_LEN)
		return;
	struct hlc_clock_state *s = hlc_state();
	if (!s)
		return;
	__u64 remote = bpf_be64_to_cpu(opt.hlc);
	__u64 pt = hlc_from_ns(hlc_physical_ns(s));
	struct bpf_sock *sk = skops->sk;
	struct conn_state *cs = 0;
	if (logged && sk && sk->state != BPF_TCP_LISTEN && sk->state != BPF_TCP_NEW_SYN_RECV)
		cs = bpf_sk_storage_get(&conn_state, sk, 0, 0);
	if (hlc_guard_refuses(s, pt, remote)) {
		hlc_count(STAT_OPTIONS_REFUSED);
		if (cs)
			cs->rx_refused = remote;
		return;
	}
	if (hlc_withholding(s)) {
		/* Not merged now; the receive event that reads these bytes merges rx_hlc. */
		hlc_count(STAT_OPTIONS_DEFERRED);
		if (cs && remote > cs->rx_hlc)
			cs->rx_hlc = remote;
		return;
	}
	hlc_tick(s, pt, remote);
	hlc_count(STAT_OPTIONS_MERGED);
	if (cs && remote > cs->rx_hlc)
		cs->rx_hlc = remote;
}

static __always_inline int handle(struct bpf_sock_ops *skops, const bool logged)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		enable_options(skops);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		enable_options(skops);
		if (logged)
			init_conn(skops);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB: {
		struct hlc_clock_state *s = hlc_state();
		if (!s)
			break;
		if (hlc_withholding(s)) {
			/* No room reserved, so WRITE never fires: count here. LEN also runs without a
			 * segment (MSS calculation); a real segment always has TCP flags (ACK or SYN). */
			if (skops->skb_tcp_flags)
				hlc_count(STAT_OPTIONS_WITHHELD);
			break;
		}
		bpf_reserve_hdr_opt(skops, HLC_OPT_LEN, 0);
		break;
	}
	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		write_option(skops, logged);
		break;
	case BPF_SOCK_OPS_PARSE_HDR_OPT_CB:
		parse_option(skops, logged);
		break;
	}
	return 1;
}

/* targets.cgroups / pids / docker: option, and per-message events through the tracepoints. */
SEC("sockops")
int hlc_sockops(struct bpf_sock_ops *skops)
{
	return handle(skops, true);
}

/* targets.option_only_cgroups / option_only_pids: the option only (their processes log themselves). */
SEC("sockops")
int hlc_sockops_option_only(struct bpf_sock_ops *skops)
{
	return handle(skops, false);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
