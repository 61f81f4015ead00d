package io.hlctrace.demo;

import io.hlctrace.demo.scalemodel.ScaleModel;

import java.util.Arrays;
import java.util.List;

/** {@code hlctrace demo [--out DIR]} and {@code hlctrace demo scale-model [options]}. */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        List<String> rest = Arrays.asList(args);
        if (!rest.isEmpty() && rest.get(0).equals("scale-model")) {
            ScaleModel.main(rest.subList(1, rest.size()));
            return;
        }
        if (!rest.isEmpty() && rest.get(0).equals("compare")) {
            io.hlctrace.demo.compare.CompareCommand.main(rest.subList(1, rest.size()));
            return;
        }
        io.hlctrace.demo.run.Demo.main(rest);
    }
}
