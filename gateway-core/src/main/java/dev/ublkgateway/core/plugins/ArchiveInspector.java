package dev.ublkgateway.core.plugins;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeModel;
import java.lang.classfile.Instruction;
import java.lang.classfile.MethodModel;
import java.lang.classfile.Opcode;
import java.lang.classfile.constantpool.ClassEntry;
import java.lang.classfile.instruction.ConstantInstruction;
import java.lang.reflect.AccessFlag;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks what a plugin archive declares against its class files, by reading them: nothing of the archive
 * is loaded, so none of its code (static initializers included) runs. Checks that its Plugin-Class (if
 * it names one) is in it and extends org.pf4j.Plugin, that it has PF4J's extension index, and that every
 * class listed there is in it and implements a provider interface of the plugin API, directly or through
 * supertypes in the archive. Where an extension's {@code name()} returns a constant, that name is read
 * too, so the installer can refuse a name that is already taken.
 */
final class ArchiveInspector {
    static final String EXTENSION_INDEX = "META-INF/extensions.idx";
    private static final String PLUGIN = "org/pf4j/Plugin";
    /** Provider interfaces by internal name, to the kind they provide. */
    private static final Map<String, String> PROVIDERS = new LinkedHashMap<>();
    static {
        PluginHost.KINDS.forEach((kind, type) -> PROVIDERS.put(type.getName().replace('.', '/'), kind));
    }

    /**
     * One extension listed in the archive's index.
     *
     * @param kinds what it provides: "stage", "target", "codec", "store"
     * @param name  what its name() returns, or null when that is not a constant in its class files
     */
    record Extension(String className, Set<String> kinds, String name) {}

    private final ArchiveClasses classes;
    private final Map<String, Optional<ClassModel>> parsed = new HashMap<>();

    private ArchiveInspector(ArchiveClasses classes) {
        this.classes = classes;
    }

    /**
     * The archive's extensions; throws with one line (no file name: callers name the plugin) saying what
     * is wrong and how to fix it.
     */
    static List<Extension> inspect(PluginArchive a) throws IOException {
        try (ArchiveClasses classes = ArchiveClasses.open(a)) {
            return new ArchiveInspector(classes).extensions(a);
        } catch (IllegalArgumentException e) {
            // the class-file reader parses parts of a class only when asked for them
            throw new IOException("a class file in it is malformed (" + e.getMessage() + "); rebuild the plugin");
        }
    }

    private List<Extension> extensions(PluginArchive a) throws IOException {
        String where = a.isZipLayout() ? "plugin.class in plugin.properties" : "Plugin-Class in the manifest";
        if (a.pluginClass() != null && !a.pluginClass().equals(PLUGIN.replace('/', '.'))) {
            ClassModel c = find(a.pluginClass()).orElseThrow(() -> new IOException("its Plugin-Class " + a.pluginClass()
                    + " is not in the archive; correct " + where + " or add the class"));
            if (!concrete(c) || !extendsPlugin(c)) {
                throw new IOException("its Plugin-Class " + a.pluginClass() + " is not a concrete subclass of org.pf4j.Plugin; "
                        + "correct " + where);
            }
        }
        String index = classes.find(EXTENSION_INDEX).map(b -> new String(b, StandardCharsets.UTF_8)).orElseThrow(() ->
                new IOException("it provides nothing: " + indexPlace(a) + " is missing; mark its providers @Extension and "
                        + "build it with PF4J's annotation processor"));
        List<Extension> out = new ArrayList<>();
        for (String line : index.lines().map(String::strip).toList()) {
            if (line.isEmpty() || line.startsWith("#")) continue;
            ClassModel c = find(line).orElseThrow(() -> new IOException("its extension index names " + line
                    + ", which is not in the archive; rebuild the plugin"));
            Set<String> kinds = kinds(c.thisClass().asInternalName(), new HashSet<>());
            if (kinds.isEmpty()) {
                throw new IOException("its extension " + line + " implements none of "
                        + String.join(", ", PROVIDERS.keySet().stream().map(n -> n.substring(n.lastIndexOf('/') + 1)).toList())
                        + "; implement one of them from plugin-api");
            }
            if (!concrete(c)) {
                throw new IOException("its extension " + line + " is abstract; list only classes that can be created");
            }
            out.add(new Extension(line, kinds, constantName(c, new HashSet<>())));
        }
        if (out.isEmpty()) {
            throw new IOException("it provides nothing: " + indexPlace(a) + " lists no class; mark its providers @Extension "
                    + "and build it with PF4J's annotation processor");
        }
        return out;
    }

    private static String indexPlace(PluginArchive a) {
        return a.isZipLayout() ? "classes/" + EXTENSION_INDEX : EXTENSION_INDEX;
    }

    /** A class of the archive by binary name (a.b.C$D) or internal name (a/b/C$D). */
    private Optional<ClassModel> find(String name) throws IOException {
        String internal = name.replace('.', '/');
        Optional<ClassModel> known = parsed.get(internal);
        if (known != null) return known;
        Optional<ClassModel> c = Optional.empty();
        if (!outsideArchive(internal)) {
            Optional<byte[]> bytes = classes.find(internal + ".class");
            if (bytes.isPresent()) {
                try {
                    c = Optional.of(ClassFile.of().parse(bytes.get()));
                } catch (IllegalArgumentException e) {
                    throw new IOException(internal + ".class is not a valid class file (" + e.getMessage() + "); rebuild the plugin");
                }
                if (!c.get().thisClass().asInternalName().equals(internal)) {
                    throw new IOException(internal + ".class holds class " + c.get().thisClass().asInternalName().replace('/', '.')
                            + "; rebuild the plugin");
                }
            }
        }
        parsed.put(internal, c);
        return c;
    }

    /** Classes the gateway's class loader provides whatever the archive holds. */
    private static boolean outsideArchive(String internal) {
        return internal.startsWith("java/") || internal.startsWith("javax/") || internal.startsWith("jdk/")
                || internal.startsWith("org/pf4j/") || internal.startsWith("dev/ublkgateway/api/");
    }

    private static boolean concrete(ClassModel c) {
        return !c.flags().has(AccessFlag.ABSTRACT) && !c.flags().has(AccessFlag.INTERFACE);
    }

    private boolean extendsPlugin(ClassModel c) throws IOException {
        Set<String> seen = new HashSet<>();
        for (Optional<ClassEntry> s = c.superclass(); s.isPresent(); ) {
            String name = s.get().asInternalName();
            if (name.equals(PLUGIN)) return true;
            if (!seen.add(name)) return false;
            Optional<ClassModel> sc = find(name);
            if (sc.isEmpty()) return false;
            s = sc.get().superclass();
        }
        return false;
    }

    /** The provider kinds a type reaches through its supertypes in the archive. */
    private Set<String> kinds(String internal, Set<String> seen) throws IOException {
        Set<String> out = new LinkedHashSet<>();
        String kind = PROVIDERS.get(internal);
        if (kind != null) {
            out.add(kind);
            return out;
        }
        if (!seen.add(internal)) return out;
        Optional<ClassModel> c = find(internal);
        if (c.isEmpty()) return out;
        if (c.get().superclass().isPresent()) out.addAll(kinds(c.get().superclass().get().asInternalName(), seen));
        for (ClassEntry i : c.get().interfaces()) out.addAll(kinds(i.asInternalName(), seen));
        return out;
    }

    /** The string name() returns when it is {@code return "constant";}, here or in a superclass; else null. */
    private String constantName(ClassModel c, Set<String> seen) throws IOException {
        if (!seen.add(c.thisClass().asInternalName())) return null;
        for (MethodModel m : c.methods()) {
            if (m.methodName().equalsString("name") && m.methodType().equalsString("()Ljava/lang/String;")
                    && !m.flags().has(AccessFlag.STATIC)) {
                return m.code().map(ArchiveInspector::returnedConstant).orElse(null);
            }
        }
        if (c.superclass().isEmpty()) return null;
        Optional<ClassModel> s = find(c.superclass().get().asInternalName());
        return s.isPresent() ? constantName(s.get(), seen) : null;
    }

    private static String returnedConstant(CodeModel code) {
        List<Instruction> ins = code.elementStream().filter(Instruction.class::isInstance).map(Instruction.class::cast).toList();
        if (ins.size() == 2 && ins.get(0) instanceof ConstantInstruction k && k.constantValue() instanceof String s
                && ins.get(1).opcode() == Opcode.ARETURN) {
            return s;
        }
        return null;
    }
}
