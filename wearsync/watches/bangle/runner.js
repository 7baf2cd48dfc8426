// wearsync runtime: the generic watch-side code of the Bangle.js app (Espruino). It is the same
// for every routine; the program it runs is data, a JSON file in Storage that the companion
// replaces on its own (see codec.program_data for the format). codec.runtime_source() fills in
// the constants block and strips comments and indentation, so keep one statement per line, no
// block comments, and no '//' inside strings.
// Espruino is not a full ES6 engine: stay with var, function and arrow functions (the
// conformance tests run this on Espruino's own interpreter).
(function(){
/*@DATA@*/
var st=require('Storage'),EVF='wearsync.ev',STF='wearsync.st',PTF='wearsync.cur',RUF='wearsync.run',RMF='wearsync.rm';
// The program: names, exercise ranges, cues, end cue, steps; empty until one is committed.
var H='',P='',X=[],F=[],C=[],Z=0,LD=3000,S=[],O=[],TOT=0,DC=0;
// Its plan: every N days from day FD at minutes M; entries EL [exercise, first step, end
// step, slots (minute, +2048: not on routine days)]; Y the reminder cue. N 0: no plan.
var N=0,FD=0,M=[],EL=[],Y=0;
// Rows of fixed-width base-36 fields (widths w; a width of 0 is a field that is always 0).
function cols(s,w){
  var r=[],i,k,n,W=0,row;
  w.forEach(function(x){W+=x;});
  for(i=0;i+W<=s.length;i+=W){
    row=[];
    n=i;
    for(k=0;k<w.length;k++){row.push(w[k]?parseInt(s.substr(n,w[k]),36):0);n+=w[k];}
    r.push(row);
  }
  return r;
}
// Loads program file n; false, with nothing changed, if it is not a program of this format.
// Step rows are [exercise, set, rep, side, kind, direction, ms, cue, countdown cue or -1,
// countdown ms]; a step's exercise is stored, or (width 0) the first one not yet over.
function prog(n){
  var j=n?st.readJSON(n,1):0;
  if(!j||j.v!=1)return false;
  var t=cols(j.t,j.tw),q=cols(j.s,j.sw),x=0,rows=[],o=[],tot=0,k;
  q.forEach(function(r,i){
    var a=t[r[0]];
    if(j.sw[1])x=r[1];else while(i>=j.f[x][0]+j.f[x][1])x++;
    rows.push([x,r[2]+1,r[3],a[0],a[1],a[2],a[3],a[4],a[5]-1,a[6]]);
    o.push(tot);
    tot+=a[3];
  });
  H=j.h;P=j.p;X=j.x;F=j.f;C=j.c;Z=j.z;S=rows;O=o;TOT=tot;
  N=j.n|0;FD=j.d|0;M=j.m||[];EL=j.e||[];Y=j.y|0;
  DC=E.CRC32(st.read(n));
  LD=3000;
  for(k=1;k<C[Z].length;k++)LD+=C[Z][k];
  return true;
}
prog(st.read(PTF));
var o=global.WS;
if(o&&o.off)o.off();
var W={v:V,gb0:o?o.gb0:global.GB,st0:o?o.st0:global.setTime};
// run: 0 idle, 1 running, 2 paused. base: wall-clock ms of program time 0; pausing, skipping
// and clock changes move base, so every cue is computed from it and drift never accumulates.
// fg: the session owns the screen and the button (not when it carried on under another app).
// ff: during a catch-up after an app change, the program time already past (else -1).
// EN: the entry running (0 the whole routine), its steps SA up to (not including) SE.
var T={},run=0,base=0,t0=0,pa=0,xs=0,cur=0,bw=0,pt=0,lt=0,fg=0,ff=-1,EN=0,SA=0,SE=0;
// A session left running when the wearer changed app (see W.kill) carries on in this lifetime,
// under the same boot id, so the companion sees one session.
var rs=st.readJSON(RUF,1);
if(rs)st.erase(RUF);
if(!(rs&&rs.h==H&&S.length))rs=0;
var sv=st.readJSON(STF,1)||{},seq=sv.s|0,boot=rs?rs.k:Math.floor(Math.random()*2147483647);
function eachEv(f){
  var fl=st.open(EVF,'r'),l;
  while((l=fl.readLine())!==undefined){
    try{f(JSON.parse(l));}catch(x){}
  }
}
eachEv(function(e){if(e.seq>seq)seq=e.seq;});
st.writeJSON(STF,{b:boot,s:seq});
function now(){return Math.round(Date.now());}
function out(m){Bluetooth.println(JSON.stringify(Object.assign({t:'wearsync'},m)));}
// Every event goes to the log in Storage first (append only, cheap on flash), then on air.
// n: the entry it belongs to (the running one if not given); left out for the routine.
function ev(k,i,d,n){
  var s=S[i],e={boot:boot,seq:++seq,at:now(),kind:k,ex:s[0],set:s[1],rep:s[2],side:D[s[3]],step:i,dur:Math.max(0,Math.round(d)),prog:H.substr(0,12)};
  n=n===undefined?EN:n;
  if(n)e.en=n;
  st.open(EVF,'a').write(JSON.stringify(e)+'\n');
  out(Object.assign({k:'ev'},e));
}
// Timers are kept by id so a pause or skip can cancel them; clearing a timer that already
// fired throws on some firmware, so fired timers remove themselves.
function at(t,f){
  var d=base+t-Date.now();
  if(d<=0)return f();
  var id=setTimeout(function(){delete T[id];f();},d);
  T[id]=1;
}
function clr(){
  for(var k in T)clearTimeout(+k);
  T={};
}
function pulse(t,ms,s){at(t,function(){Bangle.buzz(ms,s/100);});}
// Plays cue c starting at program time t; pulses at or before p have already played.
function cue(c,t,p){
  var q=C[c],j;
  for(j=1;j<q.length;j+=2){
    if(t>p)pulse(t,q[j],q[0]);
    t+=q[j]+(q[j+1]||0);
  }
}
// Schedules what is left of step i after program time p: its cue, countdown ticks, redraws, end.
function sched(i,p){
  var s=S[i],b=O[i],e=b+s[6],k;
  cue(s[7],b,p);
  if(s[8]>=0)for(k=s[9];k>0;k-=1000)cue(s[8],e-k,p);
  for(k=b;k<e;k+=1000)if(k>p)at(k,draw);
  at(e,function(){end(i);});
}
function step(i){
  var s=S[i];
  cur=i;
  if(F[s[0]][0]==i)xs=Date.now();
  sched(i,ff>=0?Math.max(O[i]-1,ff):O[i]-1);
  if(i==SA)ev('session_started',SA,fe()-O[SA]);
  ev('step_started',i,s[6]);
}
function end(i){
  var x=S[i][0];
  if(F[x][0]+F[x][1]-1==i)ev('exercise_completed',i,Date.now()-xs);
  if(i+1<SE)step(i+1);else fin(i);
}
// Program time at which the running entry ends.
function fe(){return SE<S.length?O[SE]:TOT;}
function fin(i){
  cue(Z,fe(),fe()-1);
  ev('session_completed',i,Date.now()-t0);
  done('Done');
}
function draw(){
  if(!run||!fg)return;
  var s=S[cur],c=g.getWidth()/2,n=run==2?pa:Date.now(),r=Math.ceil((base+O[cur]+s[6]-n)/1000);
  g.clear();
  g.setFontAlign(0,0);
  g.setFont('Vector',18);
  g.drawString(X[s[0]],c,30);
  g.drawString(K[s[4]]+(R[s[5]]?' '+R[s[5]]:''),c,60);
  g.drawString('Set '+s[1]+(s[2]?' Rep '+s[2]:'')+(s[3]?' '+D[s[3]]:''),c,90);
  g.setFont('Vector',run==2?30:48);
  g.drawString(run==2?'Paused':''+Math.max(r,0),c,135);
  g.flip();
}
function done(m){
  run=0;
  if(bw)clearWatch(bw);
  if(pt)clearTimeout(pt);
  bw=pt=0;
  // Under another app the screen is not ours: that app stays as it is.
  if(!fg)return;
  fg=0;
  g.clear();
  g.setFontAlign(0,0);
  g.setFont('Vector',30);
  g.drawString(m,g.getWidth()/2,g.getHeight()/2);
  g.flip();
  // Back to the clock once the end cue has played: load() restores the UI the session took.
  lt=setTimeout(function(){lt=0;if(!run)load();},LD);
}
// Take the screen and BTN1. The clock's own button handler would open the launcher and end
// the session: drop it.
function front(){
  fg=1;
  if(Bangle.setUI)Bangle.setUI();
  if(!bw)bw=setWatch(btn,BTN1,{repeat:true,edge:'both',debounce:25});
}
// Starts entry n: the whole routine (0), or entry n of the plan, from its first step with
// the step numbers of the whole program.
function start(n){
  var r=n?EL[n-1]:[0,0,S.length],l;
  mclose();
  clr();
  if(lt)clearTimeout(lt);
  lt=0;
  EN=n;
  SA=r[1];
  SE=r[2];
  t0=Date.now();
  base=t0-O[SA];
  run=1;
  l=st.readJSON(RMF,1)||{};
  l[n]=t0;
  st.writeJSON(RMF,l);
  front();
  step(SA);
}
function stop(){
  clr();
  ev('session_aborted',cur,Date.now()-t0);
  done('Stopped');
}
function toggle(){
  if(run==1){
    pa=Date.now();
    clr();
    run=2;
    ev('paused',cur,0);
  }else if(run==2){
    var p=pa-base,d=Date.now()-pa;
    base+=d;
    run=1;
    sched(cur,p);
    ev('resumed',cur,d);
  }
  draw();
}
function skip(){
  if(!run)return;
  var x=S[cur][0],n=F[x][0]+F[x][1],d=cur>=F[x][0]?Date.now()-xs:0;
  if(run==2){
    run=1;
    ev('resumed',cur,Date.now()-pa);
  }
  clr();
  ev('exercise_skipped',cur,d);
  base=Date.now()-(n<SE?O[n]:fe());
  if(n<SE)step(n);else fin(n-1);
}
// BTN1: a press shorter than a second pauses or resumes; holding it for a second skips the
// exercise (well before the firmware's 1.5 s hold that reloads the clock).
function btn(e){
  if(e.state){
    if(pt)clearTimeout(pt);
    pt=setTimeout(function(){pt=0;skip();},1000);
  }else if(pt){
    clearTimeout(pt);
    pt=0;
    toggle();
  }
}
// Reminders, as Bangle.js' sched module keeps alarms: the plan is in Storage, and every load
// of the runtime (the boot file runs it in every app) arms one timer for the next planned
// time, re-armed after each. Local time is the clock plus the offset E.setTimeZone set.
var RT=0,RL=0;
function tz(){return -new Date().getTimezoneOffset()*60000;}
// The planned [local ms, entry] of local day d (days since 1970), in time then entry order.
function occ(d){
  var r=[],b=d*864e5,rd;
  if(!N||d<FD)return r;
  rd=(d-FD)%N==0;
  if(rd)M.forEach(function(t){r.push([b+t*6e4,0]);});
  EL.forEach(function(e,k){
    e[3].forEach(function(s){if(!(rd&&s&2048))r.push([b+(s&2047)*6e4,k+1]);});
  });
  r.sort(function(a,b){return a[0]-b[0]||a[1]-b[1];});
  return r;
}
function arm(){
  if(RT)clearTimeout(RT);
  RT=0;
  if(!N||!S.length)return;
  var l=Date.now()+tz(),d=Math.max(Math.floor(l/864e5),FD),i,o,n=-1;
  for(i=0;i<=N+1&&n<0;i++){
    o=occ(d+i).filter(function(p){return p[0]>l&&p[0]>RL;});
    if(o.length)n=o[0][0];
  }
  if(n<0)return;
  // A timer of days is not left to run: one at most every six hours arms again, so a slow
  // clock or a missed clock change cannot move a reminder by more than that wait.
  var w=n-l;
  RT=setTimeout(function(){RT=0;if(w>216e5)arm();else remind(n);},Math.min(w,216e5));
}
// Plays cue c now, outside a session.
function play(c){
  var q=C[c],t=0,j;
  for(j=1;j<q.length;j+=2){
    setTimeout(function(ms){Bangle.buzz(ms,q[0]/100);},t,q[j]);
    t+=q[j]+(q[j+1]||0);
  }
}
// Local time t is planned: remind of each entry due then, unless a session of it started
// since its previous time that day (or since the day began), or a session is running.
function remind(t){
  var o=occ(Math.floor(t/864e5)),z=tz(),l=st.readJSON(RMF,1)||{},f=-1;
  RL=t;
  if(!run)o.forEach(function(p){
    var k=p[1],w=t-t%864e5;
    if(p[0]!=t)return;
    o.forEach(function(q){if(q[1]==k&&q[0]<t&&q[0]>w)w=q[0];});
    if(l[k]!==undefined&&l[k]+z>=w)return;
    ev('reminder',k?EL[k-1][1]:0,0,k);
    if(f<0)f=k;
  });
  if(f>=0){
    play(Y);
    W.menu(f,1);
  }
  arm();
}
// The menu: one item per entry (the routine, then each entry). A press starts the item
// shown; holding BTN1 for a second shows the next. Opened by a reminder (a), it goes back
// to the clock after a minute untouched.
var mw=0,mt=0,mh=0,ms=0,ma=0;
function names(){return [P].concat(EL.map(function(e){return X[e[0]];}));}
function mdraw(){
  var c=g.getWidth()/2,n=names();
  g.clear();
  g.setFontAlign(0,0);
  g.setFont('Vector',18);
  g.drawString(ma?'Reminder':(ms+1)+'/'+n.length,c,40);
  g.setFont('Vector',22);
  g.drawString(n[ms],c,90);
  g.setFont('Vector',14);
  g.drawString('Press: start',c,135);
  g.drawString('Hold: next',c,155);
  g.flip();
}
function mclose(){
  if(mw)clearWatch(mw);
  if(mt)clearTimeout(mt);
  if(mh)clearTimeout(mh);
  mw=mt=mh=0;
}
function mtime(){
  if(mt)clearTimeout(mt);
  mt=ma?setTimeout(function(){mt=0;mclose();if(!run)load();},60000):0;
}
function mbtn(e){
  if(e.state){
    if(mh)clearTimeout(mh);
    mh=setTimeout(function(){mh=0;ms=(ms+1)%names().length;mdraw();mtime();},1000);
  }else if(mh){
    clearTimeout(mh);
    mh=0;
    start(ms);
  }
}
W.menu=function(n,a){
  if(run||!S.length)return;
  mclose();
  ms=n|0;
  ma=a?1:0;
  if(Bangle.setUI)Bangle.setUI();
  mdraw();
  mw=setWatch(mbtn,BTN1,{repeat:true,edge:'both',debounce:25});
  mtime();
};
W.arm=arm;
function count(){
  var n=0;
  eachEv(function(){n++;});
  return n;
}
W.cmd=function(m){
  var c=m.c,r={k:'ok',c:c},n=0,l=0,keep=[];
  if(m.i!==undefined)r.i=m.i;
  try{
    if(c=='id'){
      Object.assign(r,{k:'id',hash:H,v:V,prog:P,boot:boot,seq:seq,unacked:count(),state:['idle','running','paused'][run],step:cur,now:now(),dc:DC});
    }else if(c=='start'){
      n=m.e|0;
      if(run)Object.assign(r,{k:'err',e:'busy'});else if(!S.length)Object.assign(r,{k:'err',e:'noprog'});else if(n<0||n>EL.length)Object.assign(r,{k:'err',e:'entry'});else start(n);
    }else if(c=='stop'){
      if(!run)Object.assign(r,{k:'err',e:'idle'});else stop();
    }else if(c=='dump'){
      eachEv(function(e){
        if(n<(m.max||64)){n++;out(Object.assign({k:'ev',re:1},e));}else l++;
      });
      Object.assign(r,{k:'dump',n:n,left:l});
    }else if(c=='ack'){
      eachEv(function(e){
        if(e.boot==m.b&&e.seq<=m.n)n++;else keep.push(JSON.stringify(e));
      });
      if(n){
        st.open(EVF,'r').erase();
        var f=st.open(EVF,'a');
        keep.forEach(function(x){f.write(x+'\n');});
      }
      st.writeJSON(STF,{b:boot,s:seq});
      Object.assign(r,{k:'ack',b:m.b,n:m.n,removed:n,left:keep.length});
    }else{
      Object.assign(r,{k:'err',e:'unknown'});
    }
  }catch(x){
    Object.assign(r,{k:'err',e:''+x});
  }
  out(r);
};
// A new program arrives as data: written to the slot not in use, checked, then committed
// by switching the pointer file, so a failed upload leaves the current program running.
function slot(){return st.read(PTF)=='wearsync.p0'?'wearsync.p1':'wearsync.p0';}
W.w=function(d,o,t){st.write(slot(),d,o,t);};
W.v=function(crc,len){
  var c=st.read(slot())||'';
  out({k:'crc',f:'wearsync.prog',crc:E.CRC32(c),len:c.length,ok:E.CRC32(c)==crc&&c.length==len});
};
W.c=function(crc){
  var n=slot(),c=st.read(n),o=st.read(PTF);
  if(run)return out({k:'err',c:'install',e:'busy'});
  if(!c||E.CRC32(c)!=crc)return out({k:'err',c:'install',e:'crc'});
  if(!prog(n)){prog(o);return out({k:'err',c:'install',e:'program'});}
  st.write(PTF,n);
  if(o)st.erase(o);
  arm();
  W.cmd({c:'id'});
};
// For the app's screen and its settings entry.
W.info=function(){return {prog:P,steps:S.length,unacked:count(),state:run,entries:EL.length};};
// The app takes over a session that carried on under another app.
W.fg=function(){
  if(!run)return;
  front();
  draw();
};
// An app change (load(), a long press) restarts JavaScript: the session's anchors go to
// Storage, and the runtime of the next app carries on from them (times come from base).
W.kill=function(){
  if(run)st.writeJSON(RUF,{h:H,k:boot,r:run,b:base,t:t0,x:xs,c:cur,p:pa,n:EN,a:SA,e:SE});
};
E.on('kill',W.kill);
W.off=function(){
  E.removeListener('kill',W.kill);
  if(run){clr();ev('session_aborted',cur,Date.now()-t0);}
  run=0;
  if(bw)clearWatch(bw);
  if(pt)clearTimeout(pt);
  if(lt)clearTimeout(lt);
  if(RT)clearTimeout(RT);
  RT=0;
  mclose();
  global.GB=W.gb0;
  if(W.st0)global.setTime=W.st0;
};
// Commands arrive as GB({t:'wearsync',...}) lines, the only form that still reaches the
// watch when Programmable is off; anything else goes on to the handler that was there.
global.GB=function(m){
  if(m&&m.t=='wearsync')W.cmd(m);else if(W.gb0)W.gb0(m);
};
// setTime() moves the wall clock but not pending timers: move the session's anchors with it.
if(W.st0)global.setTime=function(s){
  var d=s*1000-Date.now();
  W.st0(s);
  base+=d;
  t0+=d;
  xs+=d;
  pa+=d;
  arm();
};
global.WS=W;
// Carry on with the session the last app left: cues already past are not played again.
if(rs){
  base=rs.b;
  t0=rs.t;
  xs=rs.x;
  cur=rs.c;
  pa=rs.p;
  run=rs.r;
  EN=rs.n|0;
  SA=rs.a|0;
  SE=rs.e===undefined?S.length:rs.e;
  if(run==1){
    ff=Date.now()-base;
    sched(cur,ff);
    ff=-1;
  }
}
arm();
})();
