# AMEIR-A for next-item retrieval (AMEIR §3 sequential scenario, Table 2 and App. E Table 10):
# Step 1 alone, the behavior blocks over the item sequence; the last hidden state is the user
# vector, scored against every item by its embedding (shared input/output table). There is no
# target item, so the layer set has no attention from the target.
model ameir_seq {
  input history: sequence(max_len=15)
  seq = embed(history, dim=64, positions=true)
  opset behavior_layers = {
    conv(kernel=1),
    conv(kernel=3),
    dilated_conv(kernel=3),
    dilated_conv(kernel=5),
    dilated_conv(kernel=7),
    avg_pool(kernel=3),
    max_pool(kernel=3),
    bigru,
    bi_attention(heads=2),
    bi_attention(heads=4),
    zero,
  }
  # At most 6 residual blocks H_l = Act(Layer(Norm(H_{l-1}))) + H_{l-1}; zero layers make
  # shallower stacks.
  blocks behavior(seq) {
    depth 6
    norm { layer_norm, none }
    layer behavior_layers
    act { relu, gelu, swish, identity }
  }
  user = last(behavior)
  head next_item(user) {
    items seq
  }
}

# Max length 15 as AMEIR uses for Beauty; embedding width 64 instead of the paper's 128 to fit
# a 2-core CPU. 200 children ranked on 2,000 validation users, the top 5 on all of them.
search oneshot_random {
  batch 256
  epochs 2
  children 200
  top 5
  valid_subset 2000
  finetune inherit
}

train {
  optimizer adam(lr=0.001)
  batch 256
  epochs 30
  patience 2
}
