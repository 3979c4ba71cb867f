package dmasim.actors.cpu;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A driver program: a name and its instructions, with labels resolved. Immutable. */
public final class Program {
  private final String name;
  private final List<Op> ops;
  /** Where each instruction comes from ("file.conf:14 programs.all[4]"), or null for built-in programs. */
  private final List<String> origins;
  private final Map<String, Integer> labels = new HashMap<>();

  public Program(String name, List<Op> ops) {
    this(name, ops, null);
  }

  public Program(String name, List<Op> ops, List<String> origins) {
    this.name = name;
    this.ops = List.copyOf(ops);
    this.origins = origins == null ? null : java.util.Collections.unmodifiableList(new ArrayList<>(origins));
    if (origins != null && origins.size() != ops.size()) throw new IllegalArgumentException("one origin per instruction");
    for (int i = 0; i < this.ops.size(); i++) {
      if (this.ops.get(i) instanceof Op.Label l && labels.put(l.name(), i) != null) {
        throw new IllegalArgumentException("label '" + l.name() + "' defined twice in program " + name);
      }
    }
    for (Op op : this.ops) {
      String target = op instanceof Op.Goto g ? g.label()
          : op instanceof Op.Loop l ? l.label()
          : op instanceof Op.JumpIfError j ? j.label()
          : op instanceof Op.JumpIfOdd j ? j.label()
          : op instanceof Op.JumpIfErrno j ? j.label()
          : op instanceof Op.JumpIfNoIova j ? j.label()
          : op instanceof Op.ReadRetry r ? r.label()
          : op instanceof Op.JumpIfNonBlockable j ? j.label()
          : op instanceof Op.JumpIfOwnMigrate j ? j.label() : null;
      if (target != null && !labels.containsKey(target)) {
        throw new IllegalArgumentException("undefined label '" + target + "' in program " + name);
      }
    }
  }

  public String name() {
    return name;
  }

  public int size() {
    return ops.size();
  }

  public Op at(int pc) {
    return pc < ops.size() ? ops.get(pc) : new Op.End();
  }

  public int label(String l) {
    return labels.get(l);
  }

  /** The scenario-file line instruction {@code pc} was compiled from, or null (built-in program, or past the end). */
  /** The instruction of label {@code l}, or null when the program has none. */
  public Integer labelOrNull(String l) {
    return labels.get(l);
  }

  public String origin(int pc) {
    return origins == null || pc < 0 || pc >= origins.size() ? null : origins.get(pc);
  }

  /** Builds programs instruction by instruction. */
  public static final class Builder {
    private final String name;
    private final List<Op> ops = new ArrayList<>();
    private final List<String> origins = new ArrayList<>();
    private String origin;
    private boolean located;

    public Builder(String name) {
      this.name = name;
    }

    /** The instructions added from now on were compiled from {@code where} ("file.conf:14 programs.all[4]"). */
    public Builder at(String where) {
      origin = where;
      located = true;
      return this;
    }

    public Builder op(Op op) {
      ops.add(op);
      origins.add(origin);
      return this;
    }

    public Program build() {
      return new Program(name, ops, located ? origins : null);
    }
  }
}
