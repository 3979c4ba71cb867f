package dmasim.actors.cpu;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A driver program: a name and its instructions, with labels resolved. Immutable. */
public final class Program {
  private final String name;
  private final List<Op> ops;
  private final Map<String, Integer> labels = new HashMap<>();

  public Program(String name, List<Op> ops) {
    this.name = name;
    this.ops = List.copyOf(ops);
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
          : op instanceof Op.JumpIfNoIova j ? j.label() : null;
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

  /** Builds programs instruction by instruction. */
  public static final class Builder {
    private final String name;
    private final List<Op> ops = new ArrayList<>();

    public Builder(String name) {
      this.name = name;
    }

    public Builder op(Op op) {
      ops.add(op);
      return this;
    }

    public Program build() {
      return new Program(name, ops);
    }
  }
}
