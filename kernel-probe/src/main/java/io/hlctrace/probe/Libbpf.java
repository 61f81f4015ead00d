package io.hlctrace.probe;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The part of libbpf.so.1 (libbpf 1.x) the probe uses, through JNA. Errors follow libbpf 1.x:
 * pointers come back NULL with errno set, ints come back as a negative errno.
 */
interface Libbpf extends Library {
    Libbpf INSTANCE = load();

    private static Libbpf load() {
        try {
            return Native.load("libbpf.so.1", Libbpf.class);
        } catch (UnsatisfiedLinkError e) {
            throw new ProbeException("cannot load libbpf.so.1: " + e.getMessage(),
                    "install libbpf1 (Debian: apt-get install libbpf1; scripts/setup.sh does it as root)");
        }
    }

    /** libbpf's log callback; args is a va_list for vsnprintf. */
    interface PrintFn extends Callback {
        int invoke(int level, Pointer format, Pointer args);
    }

    /** ring_buffer_sample_fn. */
    interface SampleFn extends Callback {
        int invoke(Pointer ctx, Pointer data, long size);
    }

    Pointer libbpf_set_print(PrintFn fn);

    Pointer bpf_object__open_file(String path, Pointer opts);

    int bpf_object__load(Pointer obj);

    void bpf_object__close(Pointer obj);

    Pointer bpf_object__find_program_by_name(Pointer obj, String name);

    Pointer bpf_object__find_map_by_name(Pointer obj, String name);

    int bpf_map__fd(Pointer map);

    int bpf_map__set_max_entries(Pointer map, int maxEntries);

    int bpf_map__unpin(Pointer map, String path);

    Pointer bpf_program__attach(Pointer prog);

    Pointer bpf_program__attach_cgroup(Pointer prog, int cgroupFd);

    int bpf_link__destroy(Pointer link);

    Pointer ring_buffer__new(int mapFd, SampleFn sample, Pointer ctx, Pointer opts);

    int ring_buffer__poll(Pointer rb, int timeoutMs);

    int ring_buffer__consume(Pointer rb);

    void ring_buffer__free(Pointer rb);

    int bpf_map_lookup_elem(int fd, Pointer key, Pointer value);

    int bpf_map_update_elem(int fd, Pointer key, Pointer value, long flags);

    int bpf_obj_get(String path);

    /** Number of possible CPUs: a per-CPU map's lookup returns one value per possible CPU. */
    int libbpf_num_possible_cpus();
}
