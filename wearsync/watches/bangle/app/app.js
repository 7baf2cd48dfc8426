// wearsync for Bangle.js: the launcher entry. The runtime itself (wearsync.js) is loaded by
// wearsync.boot.js into every app, so it answers the phone from the clock face too; this app
// only shows which routine the phone sent and starts it with the button.
(function(){
var w=global.WS,c=g.getWidth()/2,i=w?w.info():{prog:''};
// A session that carried on under another app: show it again and give it the button.
if(w&&i.state)return w.fg();
Bangle.loadWidgets();
g.clear();
Bangle.drawWidgets();
g.setFontAlign(0,0);
g.setFont('Vector',22);
g.drawString(i.prog||'wearsync',c,70);
g.setFont('6x8',2);
g.drawString(!w?'not loaded':i.prog?'BTN: start':'sync from phone',c,110);
if(i.unacked)g.drawString(i.unacked+' to sync',c,140);
g.flip();
// On release, so the runtime's own button handling starts with the next press.
if(w&&i.prog)setWatch(function(){w.cmd({c:'start'});},BTN1,{edge:'falling',debounce:25});
})();
