import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Runs inside the htk/jvm container (java LineClient.java HOST PORT COUNT): one long-lived TCP
 * connection, COUNT request/response messages. Message i is "m<i>:" + payload(i) + "\n" where the
 * payload holds every byte value but '\n'; the server answers the SHA-256 (hex + "\n") of each
 * message without its newline, and this client checks every answer, so both directions are
 * checked byte for byte. Each message is one write(byte[]): one `send` event in the agent's log.
 * The message sizes are io.hlctrace.demo.docker.AgentInContainerTest#messageLength.
 */
public class LineClient {
    static byte[] message(int i) {
        byte[] head = ("m" + i + ":").getBytes(StandardCharsets.US_ASCII);
        int payload = (i * 7919) % 1500 + 1;
        byte[] m = Arrays.copyOf(head, head.length + payload + 1);
        for (int j = 0; j < payload; j++) {
            int b = (i * 31 + j * 17) & 0xff;
            m[head.length + j] = (byte) (b == '\n' ? 11 : b);
        }
        m[m.length - 1] = '\n';
        return m;
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int count = Integer.parseInt(args[2]);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        long sent = 0, received = 0;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 10_000);
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (int i = 0; i < count; i++) {
                byte[] m = message(i);
                out.write(m);
                sent += m.length;
                byte[] expected = (HexFormat.of().formatHex(sha.digest(Arrays.copyOf(m, m.length - 1))) + "\n")
                        .getBytes(StandardCharsets.US_ASCII);
                byte[] reply = in.readNBytes(expected.length);
                received += reply.length;
                if (!Arrays.equals(reply, expected)) {
                    System.out.println("client-mismatch message=" + i + " got=" + new String(reply, StandardCharsets.ISO_8859_1).strip());
                    System.exit(4);
                }
            }
        }
        System.out.println("client-ok messages=" + count + " sent=" + sent + " received=" + received);
    }
}
