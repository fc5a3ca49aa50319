import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { setWasmBackend } from "/work/main/packages/layers/dist/wasm-threads.js";
await setWasmBackend({ threads: Number(process.argv[2] ?? 2) });
function time(label, a, b, flops, reps=5) {
  tf.matMul(a,b).dispose();
  const ts=[];
  for (let i=0;i<reps;i++){ const t=performance.now(); const c=tf.matMul(a,b); c.dataSync; tf.slice(c,[0,0],[1,1]).dataSync(); ts.push(performance.now()-t); c.dispose(); }
  ts.sort((x,y)=>x-y);
  console.log(label, ts.map(x=>x.toFixed(0)).join(" "), (flops/ts[0]/1e6).toFixed(1), "GFLOP/s best");
}
const a=tf.randomNormal([1024,1024]); time("1024^3", a, a, 2*1024**3);
const h=tf.randomNormal([512,64]), wt=tf.randomNormal([64,50257]), p=tf.randomNormal([512,50257]), w=tf.randomNormal([50257,64]), ht=tf.randomNormal([64,512]);
const F=2*512*64*50257;
time("logits [512,64]@[64,V]", h, wt, F);
time("dh [512,V]@[V,64]", p, w, F);
time("dWt [64,512]@[512,V]", ht, p, F);
const pt=tf.randomNormal([50257,512]);
time("dW [V,512]@[512,64]", pt, h, F);
const wv=tf.randomNormal([50257,64]);
time("logitsT [V,64]@[64,512]", wv, ht, F);
