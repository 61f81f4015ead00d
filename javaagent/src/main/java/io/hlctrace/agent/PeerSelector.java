package io.hlctrace.agent;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * One `peers` entry of the config: the remote side matches when it matches every part that is
 * given (any of the hosts or CIDRs, and any of the ports).
 */
public final class PeerSelector {
    private final List<String> hostNames = new ArrayList<>();
    private final List<byte[]> cidrAddrs = new ArrayList<>();
    private final List<Integer> cidrBits = new ArrayList<>();
    private final List<Integer> ports;

    public PeerSelector(List<String> hosts, List<String> cidrs, List<Integer> ports) {
        this.ports = List.copyOf(ports);
        for (String h : hosts) hostNames.add(h.toLowerCase(java.util.Locale.ROOT));
        for (String c : cidrs) {
            int slash = c.indexOf('/');
            String addr = slash < 0 ? c : c.substring(0, slash);
            byte[] raw;
            try {
                if (!addr.matches("[0-9a-fA-F:.]+")) throw new UnknownHostException(addr);
                raw = InetAddress.getByName(addr).getAddress(); // a literal: no name lookup
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("'" + c + "' is not a CIDR such as 10.77.0.0/16");
            }
            int bits = raw.length * 8;
            if (slash >= 0) {
                try {
                    bits = Integer.parseInt(c.substring(slash + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("'" + c + "': the prefix length is not a number");
                }
                if (bits < 0 || bits > raw.length * 8) throw new IllegalArgumentException("'" + c + "': prefix length out of range");
            }
            cidrAddrs.add(raw);
            cidrBits.add(bits);
        }
    }

    public boolean matches(InetAddress remote, int port) {
        if (!ports.isEmpty() && !ports.contains(port)) return false;
        if (hostNames.isEmpty() && cidrAddrs.isEmpty()) return true;
        String literal = remote.getHostAddress().toLowerCase(java.util.Locale.ROOT);
        for (String h : hostNames) {
            if (h.equals(literal)) return true;
            // only names the application already resolved: no DNS lookup on the I/O path
            String known = hostNameIfResolved(remote);
            if (known != null && h.equals(known.toLowerCase(java.util.Locale.ROOT))) return true;
        }
        byte[] a = remote.getAddress();
        for (int i = 0; i < cidrAddrs.size(); i++) {
            byte[] net = cidrAddrs.get(i);
            if (net.length != a.length) continue;
            int bits = cidrBits.get(i);
            boolean ok = true;
            for (int b = 0; b < bits && ok; b++) {
                int mask = 0x80 >>> (b % 8);
                ok = (net[b / 8] & mask) == (a[b / 8] & mask);
            }
            if (ok) return true;
        }
        return false;
    }

    private static String hostNameIfResolved(InetAddress a) {
        String s = a.toString(); // "name/literal" when the name is known, "/literal" otherwise
        int slash = s.indexOf('/');
        return slash > 0 ? s.substring(0, slash) : null;
    }
}
