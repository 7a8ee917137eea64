# DIN: Deep Interest Network (Guorui Zhou, Xiaoqiang Zhu, Chenru Song, Ying Fan, Han Zhu, Xiao Ma,
# Yanghui Yan, Junqi Jin, Han Li, Kun Gai, KDD 2018). A local activation unit weights each
# behavior by its relevance to the target item; the weighted sum pools the history, and an MLP
# with Dice activations scores [profile; pooled interest; target].
#
# Differs from the paper: DIN looks up the behaviors and the target item in one shared embedding
# table; here `seq` and `target` are two embed nodes, and each embed has its own table (the
# language has no way to share a table between two inputs).
model din {
  input fields: categorical
  input history: sequence(max_len=50)
  input item: target
  # AMEIR's Alimama protocol for its DIN baseline: embedding size 4, max sequence length 50.
  emb = embed(fields, dim=4)
  seq = embed(history, dim=4)
  target = embed(item, dim=4)
  interest = target_attention_pool(seq, target)
  # The aggregation MLP [200, 80] with Dice, as AMEIR fixes it for DIN.
  mlp dnn(concat(flatten(emb), interest, target)) {
    layers 2
    act dice
    layer 1 {
      width 200
    }
    layer 2 {
      width 80
    }
  }
  head ctr(dnn)
}

# AMEIR's Alimama protocol: Adam, batch 1024. AMEIR states an initial learning rate of 1e-5 with
# a cosine schedule (`schedule cosine` here); this spec keeps 1e-3 with decay on a plateau, as
# specs/ameir.nas does, so that the two stay comparable with the numbers in benchmarks/.
train {
  optimizer adam(lr=0.001)
  batch 1024
  epochs 20
  monitor auc
  patience 2
  lr_decay 0.1
}
