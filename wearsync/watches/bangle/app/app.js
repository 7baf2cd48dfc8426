// wearsync for Bangle.js: the launcher entry. The runtime itself (wearsync.js) is loaded by
// wearsync.boot.js into every app, so it answers the phone and reminds the wearer from the
// clock face too; this app shows the runtime's menu: the routine and each exercise done
// several times a day. A press starts the one shown, holding BTN1 for a second shows the next.
(function(){
var w=global.WS,c=g.getWidth()/2,i=w?w.info():{prog:''};
// A session that carried on under another app: show it again and give it the button.
if(w&&i.state)return w.fg();
if(w&&i.prog)return w.menu(0);
Bangle.loadWidgets();
g.clear();
Bangle.drawWidgets();
g.setFontAlign(0,0);
g.setFont('Vector',22);
g.drawString('wearsync',c,70);
g.setFont('6x8',2);
g.drawString(!w?'not loaded':'sync from phone',c,110);
if(i.unacked)g.drawString(i.unacked+' to sync',c,140);
g.flip();
})();
