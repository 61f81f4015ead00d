package io.hlctrace.demo.run;

import io.hlctrace.demo.apps.PythonServices;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * The demo's services and requests, wherever its executors are: simulated on loopback, network
 * namespaces ({@link Demo}) or containers on Docker networks ({@link DockerDemo}). A
 * {@link Placement} says how a service is started on an executor and how others reach it; the
 * services, their order and the requests are the same in every variant.
 */
public final class Workload {
    private Workload() {}

    /** A started service or program: its standard output, line by line, with bounded waits. */
    public interface Output {
        /** The rest of the next line that starts with {@code prefix}; fails after {@code timeout}. */
        String expect(String prefix, Duration timeout) throws IOException, InterruptedException;

        /** Waits until the program has exited; false when it still runs after {@code timeout}. */
        boolean waitFor(Duration timeout) throws InterruptedException;
    }

    /** Where and how the services run. */
    public interface Placement {
        /** Starts one of {@link io.hlctrace.demo.apps.Services}' services with the agent on {@code executor}. */
        Output startJvm(String service, String executor, List<String> args) throws IOException, InterruptedException;

        /** Starts a python3 program ({@link PythonServices}) on {@code executor}, stamped by the executor's kernel probe. */
        Output startPython(String name, String executor, String script, List<String> args) throws IOException, InterruptedException;

        /** Runs a python3 program that has exited once more (in containers: the same container started again). */
        Output restartPython(String name) throws IOException, InterruptedException;

        /** The host:port at which the other services reach {@code name}, which announced {@code port}. */
        String address(String executor, String name, String port) throws IOException, InterruptedException;
    }

    /** The python3 HTTP service's fixed port; the agents talk plain to it (agent config {@code ports: {8000: plain}}). */
    public static final int PYTHON_HTTP_PORT = 8000;
    static final String PYTHON_HTTP = "python3-http-service";
    static final String PYTHON_CLIENT = "python3-client";

    /**
     * Starts the services and runs the requests: {@code requests} from client(A) through
     * gateway(B) to raw-service(A) and http-service(C) (and, with python3, on to the python3 HTTP
     * service on C); with python3 also {@code requests / 2} from a python3 client on C, split over
     * {@code pythonClientRuns} runs of the same program (a restart between runs). Returns the
     * one-line description of what ran; throws when a request failed.
     */
    public static String run(Placement p, int requests, boolean python, int pythonClientRuns) throws IOException, InterruptedException {
        String pyHttpAddr = null;
        if (python) {
            Output py = p.startPython(PYTHON_HTTP, "C", PythonServices.HTTP_SERVICE, List.of(Integer.toString(PYTHON_HTTP_PORT)));
            pyHttpAddr = p.address("C", PYTHON_HTTP, py.expect("PORT ", Duration.ofSeconds(30)));
        }
        Output http = p.startJvm("http-service", "C", pyHttpAddr == null ? List.of("http-service") : List.of("http-service", pyHttpAddr));
        Output raw = p.startJvm("raw-service", "A", List.of("raw-service"));
        String httpAddr = p.address("C", "http-service", http.expect("PORT ", Duration.ofSeconds(30)));
        String rawAddr = p.address("A", "raw-service", raw.expect("PORT ", Duration.ofSeconds(30)));
        Output gateway = p.startJvm("gateway", "B", List.of("gateway", rawAddr, httpAddr));
        String gatewayAddr = p.address("B", "gateway", gateway.expect("PORT ", Duration.ofSeconds(30)));
        Output client = p.startJvm("client", "A", List.of("client", gatewayAddr, Integer.toString(requests), "7"));
        int pyRequests = requests / 2, perRun = Math.max(1, pyRequests / Math.max(1, pythonClientRuns));
        Output pyClient = null;
        if (python) {
            // on the same executor as the service it calls: a plain connection between a JVM and a
            // probed process carries no clock across executors (docs/demo.md)
            pyClient = p.startPython(PYTHON_CLIENT, "C", PythonServices.HTTP_CLIENT, List.of(httpAddr, Integer.toString(perRun)));
        }
        String done = client.expect("DONE ", Duration.ofSeconds(60 + requests / 5));
        if (!done.endsWith(" 0")) throw new IOException("the workload had failed requests (client: DONE " + done + ")");
        for (int run = 1; pyClient != null && run <= pythonClientRuns; run++) {
            String pyDone = pyClient.expect("DONE ", Duration.ofSeconds(60));
            if (!pyDone.endsWith(" 0")) throw new IOException("the python3 client had failed requests (run " + run + ": DONE " + pyDone + ")");
            if (run < pythonClientRuns) {
                if (!pyClient.waitFor(Duration.ofSeconds(20))) throw new IOException("the python3 client did not exit after run " + run);
                pyClient = p.restartPython(PYTHON_CLIENT);
            }
        }
        client.waitFor(Duration.ofSeconds(10));
        String restarts = pythonClientRuns > 1 ? " in " + pythonClientRuns + " runs of one program, restarted in between" : "";
        return requests + " requests client(A) -> gateway(B) -> raw-service(A, NIO) and http-service(C"
                + (python ? ") -> python3 http-service(C, probe); " + perRun * pythonClientRuns + " requests python3 client(C, probe) -> http-service(C) -> python3 http-service(C)" + restarts : ")")
                + ", all answered";
    }
}
