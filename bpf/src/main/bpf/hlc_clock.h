/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The executor clock as BPF programs see it: the 64-byte record of
 * io.hlctrace.hlc.ExecutorClockState (the one declaration of that struct on the C side), the
 * BPF_F_MMAPABLE array map that holds it (pinned as <pin dir>/clock), the executor's physical
 * clock, and the HLC rules of docs/hlc-encoding.md on the 64-bit word.
 *
 * Every object file includes this header; the map is declared with LIBBPF_PIN_BY_NAME, so the
 * first object loaded by the daemon creates and pins it and the others (and a restarted daemon)
 * reuse the pinned map. That is what keeps the clock monotonic across restarts.
 */
#ifndef HLCTRACE_HLC_CLOCK_H
#define HLCTRACE_HLC_CLOCK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Must stay byte-identical to ExecutorClockState (offsets 0..56, native-order 64-bit words). */
struct hlc_clock_state {
	__u64 hlc;              /*  0: the executor's HLC word */
	__s64 offset_ns;        /*  8: simulated skew + sync correction, added to CLOCK_REALTIME */
	__s64 drift_ppb;        /* 16: simulated drift, parts per billion */
	__s64 drift_epoch_ns;   /* 24: CLOCK_REALTIME at which the drift starts */
	__s64 tai_minus_utc_ns; /* 32: CLOCK_TAI - CLOCK_REALTIME, subtracted from bpf_ktime_get_tai_ns() */
	__s64 max_offset_ns;    /* 40: max-offset guard, 0 = off */
	__u64 flags;            /* 48: bit 0 unhealthy */
	__s64 sync_error_ns;    /* 56: uncertainty half-width */
};

_Static_assert(sizeof(struct hlc_clock_state) == 64, "the executor clock record is 64 bytes");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct hlc_clock_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} clock SEC(".maps");

/* Counters the daemon reads (pinned as <pin dir>/stats); indexes are mirrored in ProbeStats.java. */
enum hlc_stat {
	STAT_RINGBUF_DROPS = 0,   /* events lost because the ring buffer was full */
	STAT_OPTIONS_WRITTEN = 1, /* TCP options written on outgoing segments */
	STAT_OPTIONS_MERGED = 2,  /* received options merged into the clock */
	STAT_OPTIONS_REFUSED = 3, /* received options refused by the max-offset guard */
	STAT_CAS_EXHAUSTED = 4,   /* ticks that lost every CAS race and fell back to an atomic increment */
	STAT_EVENTS = 5,          /* events written to the ring buffer */
	/* Fail-stop with fail_mode refuse (docs/clock-sync.md): what the probe did not do while the
	 * executor was unhealthy, so that nothing it skipped goes unreported. */
	STAT_OPTIONS_WITHHELD = 6, /* outgoing segments sent without the option */
	STAT_EVENTS_WITHHELD = 7,  /* sends and receives not stamped (no event) */
	STAT_OPTIONS_DEFERRED = 8, /* received options kept for the connection's next receive event, not merged */
	STAT_COUNT = 16,
};

/*
 * Per CPU: the counters are bumped on every segment and message from both ends of a connection,
 * usually on two CPUs; one shared cache line bouncing between them cost more than the counting.
 * Readers sum the CPUs' values.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

/*
 * Settings the daemon writes (pinned as <pin dir>/control; indexes mirrored in BpfProbe.java):
 * CONTROL_FAIL_REFUSE is probe.yml's fail_mode (1 = refuse); while control[CONTROL_FORGE_COUNT]
 * is non-zero, outgoing options carry control[CONTROL_FORGE_HLC] instead of the clock (a test knob
 * that plays a forged peer).
 */
enum { CONTROL_FORGE_HLC = 0, CONTROL_FORGE_COUNT = 1, CONTROL_FAIL_REFUSE = 2, CONTROL_COUNT = 4 };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CONTROL_COUNT);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} control SEC(".maps");

static __always_inline void hlc_count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &stat);
	/* atomic although per CPU: a softirq (sock_ops) may interrupt a tracepoint program on this CPU */
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline struct hlc_clock_state *hlc_state(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&clock, &zero);
}

/* flags bit 0, set by clock-sync while the executor's clock cannot be trusted (fail-stop). */
#define HLC_FLAG_UNHEALTHY 1ULL

/* Read at the moment of stamping, so an event says whether its own stamp was trusted. */
static __always_inline bool hlc_unhealthy(const struct hlc_clock_state *s)
{
	return (*(volatile const __u64 *)&s->flags & HLC_FLAG_UNHEALTHY) != 0;
}

/*
 * Fail-stop with fail_mode refuse: unhealthy, and told to hand out no timestamps. The settings
 * map is read only when the flag is set, so a healthy executor pays nothing for it.
 */
static __always_inline bool hlc_withholding(const struct hlc_clock_state *s)
{
	if (!hlc_unhealthy(s))
		return false;
	__u32 k = CONTROL_FAIL_REFUSE;
	__u64 *refuse = bpf_map_lookup_elem(&control, &k);
	return refuse && *refuse != 0;
}

#define HLC_NS_PER_S 1000000000ULL

/*
 * u / 1e9 without a division instruction: BPF has no multiply-high, so clang emits a real 64-bit
 * divide for every '/ 1e9', and a stamp needed three to seven of them (tens of cycles each, on every
 * segment and message). 1e9 = 2^9 * 1953125: shift, then multiply by the magic reciprocal of
 * 1953125 (what C compilers emit for x86-64), exact for every 64-bit u; the 128-bit product's high
 * half is assembled from 32-bit halves.
 */
static __always_inline __u64 hlc_div_1e9(__u64 u)
{
	const __u64 magic = 0x44B82FA09B5A53ULL;
	__u64 a = u >> 9;
	__u64 a_lo = (__u32)a, a_hi = a >> 32;
	__u64 lo_lo = a_lo * (__u32)magic, hi_lo = a_hi * (__u32)magic;
	__u64 lo_hi = a_lo * (magic >> 32), hi_hi = a_hi * (magic >> 32);
	__u64 cross = (lo_lo >> 32) + (__u32)hi_lo + lo_hi;
	return ((hi_lo >> 32) + (cross >> 32) + hi_hi) >> 11;
}

/* Signed division by 1e9 truncating toward zero, like Java's '/'. */
static __always_inline __s64 hlc_sdiv_1e9(__s64 a)
{
	if (a < 0)
		return -(__s64)hlc_div_1e9((__u64)-a);
	return (__s64)hlc_div_1e9((__u64)a);
}

/*
 * The executor's physical time in ns since the Unix epoch: CLOCK_TAI corrected to UTC, then
 * SkewedPhysicalClock.apply(t, offset, drift_ppb, drift_epoch): t + offset + (t - epoch) * ppb / 1e9,
 * split as in Java so both sides compute the same number.
 */
static __always_inline __s64 hlc_physical_ns(const struct hlc_clock_state *s)
{
	__s64 base = (__s64)bpf_ktime_get_tai_ns() - s->tai_minus_utc_ns;
	__s64 t = base + s->offset_ns;
	__s64 ppb = s->drift_ppb;
	if (ppb != 0) {
		__s64 elapsed = base - s->drift_epoch_ns;
		__s64 whole = hlc_sdiv_1e9(elapsed);
		__s64 rest = elapsed - whole * (__s64)HLC_NS_PER_S;
		t += (__s64)((__u64)whole * (__u64)ppb) + hlc_sdiv_1e9((__s64)((__u64)rest * (__u64)ppb));
	}
	return t;
}

/* HlcTimestamp.fromNanos: l = top 48 bits of the NTP-style 32.32 time, c = 0. */
static __always_inline __u64 hlc_from_ns(__s64 ns)
{
	if (ns < 0)
		ns = 0;
	__u64 u = (__u64)ns;
	__u64 seconds = hlc_div_1e9(u);
	__u64 fraction = hlc_div_1e9((u - seconds * HLC_NS_PER_S) << 16);
	return (seconds << 32) | (fraction << 16);
}

/* HlcTimestamp.nanosToLUnitsCeil. */
static __always_inline __u64 hlc_ns_to_units_ceil(__s64 ns)
{
	if (ns <= 0)
		return 0;
	__u64 u = (__u64)ns;
	__u64 seconds = hlc_div_1e9(u);
	return (seconds << 16) + hlc_div_1e9(((u - seconds * HLC_NS_PER_S) << 16) + HLC_NS_PER_S - 1);
}

/* CAS attempts before giving up (counted); contention on one word is short in practice. */
#define HLC_CAS_TRIES 16

/*
 * The one update rule: w = max(max(w, remote) + 1, pt). With remote = 0 it is the send/local rule
 * w = max(w + 1, pt). Returns the new word. When every CAS lost a race (counted), an atomic
 * increment still hands out a unique word above every earlier one; only pt and remote are not
 * applied to that one tick.
 */
static __always_inline __u64 hlc_tick(struct hlc_clock_state *s, __u64 pt, __u64 remote)
{
	for (int i = 0; i < HLC_CAS_TRIES; i++) {
		__u64 old = *(volatile __u64 *)&s->hlc;
		__u64 next = (old > remote ? old : remote) + 1;
		if (pt > next)
			next = pt;
		if (__sync_val_compare_and_swap(&s->hlc, old, next) == old)
			return next;
	}
	hlc_count(STAT_CAS_EXHAUSTED);
	return __sync_fetch_and_add(&s->hlc, 1) + 1;
}

/* The max-offset guard: is remote's l more than max_offset ahead of pt's l? */
static __always_inline bool hlc_guard_refuses(const struct hlc_clock_state *s, __u64 pt, __u64 remote)
{
	__u64 units = hlc_ns_to_units_ceil(s->max_offset_ns);
	return units != 0 && (remote >> 16) > (pt >> 16) + units;
}

#endif
